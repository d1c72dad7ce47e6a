// The bytes the accumulator hashes: record layouts checked byte by byte, the captured
// stream re-hashed independently, alignment and use-after-finalize errors.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "mrtd_test_support.h"

namespace tdsim::measure {
namespace {

using mtest::Recorder;

Mrtd sha384(const std::vector<uint8_t>& data) {
  Mrtd m;
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), m.digest.data(), &len, EVP_sha384(), nullptr), 1);
  EXPECT_EQ(len, 48u);
  return m;
}

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void expect_record(const Record& r, const char* name, uint64_t gpa) {
  size_t n = std::strlen(name);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data()), n), name);
  for (size_t i = n; i < 16; ++i) EXPECT_EQ(r[i], 0) << "padding byte " << i;
  EXPECT_EQ(le64(&r[16]), gpa);
  for (size_t i = 24; i < 128; ++i) EXPECT_EQ(r[i], 0) << "reserved byte " << i;
}

TEST(MrtdRecords, PageAddLayout) {
  Record r = page_add_record(0x123456789abcd000);
  expect_record(r, "MEM.PAGE.ADD", 0x123456789abcd000);
  EXPECT_EQ(r[16], 0x00);  // little-endian: lowest byte first
  EXPECT_EQ(r[17], 0xd0);
  EXPECT_EQ(r[23], 0x12);
}

TEST(MrtdRecords, MrExtendHeaderLayout) {
  Record r = mr_extend_header(0xfffff100);
  expect_record(r, "MR.EXTEND", 0xfffff100);
  EXPECT_EQ(r[9], 0);
  EXPECT_EQ(r[17], 0xf1);
}

TEST(MrtdRecords, StreamIsRecordsInCallOrderAndRehashesToTheDigest) {
  Recorder rec;
  MrtdAccumulator acc(rec.tap());
  std::vector<uint8_t> chunk = mtest::pattern(256, 1, 0);
  acc.page_add(0x7000);
  acc.mr_extend(0x7100, std::span<const uint8_t, 256>(chunk.data(), 256));
  Mrtd got = acc.finalize();

  ASSERT_EQ(rec.pieces.size(), 3u);
  Record add = page_add_record(0x7000), hdr = mr_extend_header(0x7100);
  EXPECT_EQ(rec.pieces[0], std::vector<uint8_t>(add.begin(), add.end()));
  EXPECT_EQ(rec.pieces[1], std::vector<uint8_t>(hdr.begin(), hdr.end()));
  EXPECT_EQ(rec.pieces[2], chunk);
  EXPECT_EQ(rec.stream().size(), 128u + 128u + 256u);
  // One running SHA-384 over the concatenation, not a chain of per-record hashes.
  EXPECT_EQ(got, sha384(rec.stream()));
  EXPECT_EQ(acc.pages_added(), 1u);
  EXPECT_EQ(acc.chunks_extended(), 1u);
}

TEST(MrtdRecords, PageAddRejectsUnalignedGpaAndNamesIt) {
  MrtdAccumulator acc;
  try {
    acc.page_add(0x1800);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("0x1800"), std::string::npos) << e.what();
  }
  EXPECT_EQ(acc.pages_added(), 0u);
}

TEST(MrtdRecords, MrExtendRejectsUnalignedGpaAndNamesIt) {
  MrtdAccumulator acc;
  std::array<uint8_t, 256> chunk{};
  EXPECT_NO_THROW(acc.mr_extend(0x1f00, chunk));
  try {
    acc.mr_extend(0x1080, chunk);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("0x1080"), std::string::npos) << e.what();
  }
  EXPECT_EQ(acc.chunks_extended(), 1u);
}

TEST(MrtdRecords, RejectedCallsLeaveTheHashUntouched) {
  MrtdAccumulator acc;
  EXPECT_THROW(acc.page_add(0x1001), std::invalid_argument);
  acc.page_add(0x1000);
  EXPECT_EQ(acc.finalize().hex(),
            "fcdabf6fdf38b87d2e3a89b1ab68c242abb261dffa70ef6f1dc2220c2752d2729cdf1be92afc2e0e4297f04e2b629552");
}

TEST(MrtdRecords, FinalizeIsFinal) {
  MrtdAccumulator acc;
  acc.finalize();
  EXPECT_THROW(acc.page_add(0x1000), std::logic_error);
  EXPECT_THROW(acc.finalize(), std::logic_error);
}

TEST(MrtdRecords, MovedAccumulatorKeepsItsState) {
  MrtdAccumulator a;
  a.page_add(0x1000);
  MrtdAccumulator b(std::move(a));
  EXPECT_EQ(b.finalize().hex(),
            "fcdabf6fdf38b87d2e3a89b1ab68c242abb261dffa70ef6f1dc2220c2752d2729cdf1be92afc2e0e4297f04e2b629552");
}

TEST(MrtdRecords, HexParsingNamesTheProblem) {
  EXPECT_THROW(Mrtd::from_hex("abcd"), std::invalid_argument);
  std::string bad(96, '0');
  bad[41] = 'g';
  try {
    Mrtd::from_hex(bad);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("41"), std::string::npos) << e.what();
  }
  EXPECT_EQ(Mrtd::from_hex(std::string(96, 'F')).digest[47], 0xff);
  std::array<uint8_t, 575> short_report{};
  EXPECT_THROW(Mrtd::from_tdreport(short_report), std::invalid_argument);
}

}  // namespace
}  // namespace tdsim::measure
