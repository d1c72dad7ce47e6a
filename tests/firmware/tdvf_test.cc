// TDVF metadata parsing and the MRTD of the TD it describes. Images are built here byte
// by byte (so every field can be broken on its own), plus Debian's OVMF where installed.
// The expected MRTD is computed in this file straight from the TDX module's rules with
// OpenSSL, independently of bootstub/measure.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "firmware/tdvf_measure.h"
#include "firmware/tdvf_metadata.h"
#include "tests/firmware/debian_ovmf.h"

namespace tdsim::firmware {
namespace {

constexpr uint8_t kFooterGuid[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                     0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
constexpr uint8_t kOffsetGuid[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                     0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
constexpr uint8_t kOtherGuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

struct Sec {
  uint32_t data_offset, raw_size;
  uint64_t gpa, size;
  uint32_t type, attributes;
};

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// A 64 KiB firmware: BFV = the first 32 KiB (measured), metadata at 0xf000, GUIDed
// table (an unrelated entry, then the metadata-offset entry) ending at the footer.
constexpr size_t kSize = 0x10000, kMetadataAt = 0xf000;
std::vector<Sec> default_sections() {
  return {{0, 0x8000, 0xffff0000 - 0x8000, 0x8000, 0, 1},
          {0, 0, 0x800000, 0x2000, 3, 0},
          {0, 0, 0x802000, 0x1000, 2, 0}};
}

std::vector<uint8_t> build(const std::vector<Sec>& secs = default_sections()) {
  std::vector<uint8_t> b(kSize, 0);
  for (size_t i = 0; i < 0x8000; ++i) b[i] = static_cast<uint8_t>(i * 7 + (i >> 8));
  put(b, kMetadataAt, 0x46564454, 4);
  put(b, kMetadataAt + 4, 16 + 32 * secs.size(), 4);
  put(b, kMetadataAt + 8, 1, 4);
  put(b, kMetadataAt + 12, secs.size(), 4);
  for (size_t i = 0; i < secs.size(); ++i) {
    const size_t e = kMetadataAt + 16 + 32 * i;
    put(b, e, secs[i].data_offset, 4);
    put(b, e + 4, secs[i].raw_size, 4);
    put(b, e + 8, secs[i].gpa, 8);
    put(b, e + 16, secs[i].size, 8);
    put(b, e + 24, secs[i].type, 4);
    put(b, e + 28, secs[i].attributes, 4);
  }
  // Table, growing down from the footer: [u16 total][footer GUID] at size-50..size-32;
  // entries below it, each [data][u16 len][GUID].
  size_t end = kSize - 50;
  std::memcpy(&b[kSize - 48], kFooterGuid, 16);
  auto entry = [&](const uint8_t* guid, uint32_t value) {
    std::memcpy(&b[end - 16], guid, 16);
    put(b, end - 18, 22, 2);
    put(b, end - 22, value, 4);
    end -= 22;
  };
  entry(kOffsetGuid, static_cast<uint32_t>(kSize - kMetadataAt));
  entry(kOtherGuid, 0x1234);
  put(b, kSize - 50, 18 + 44, 2);
  return b;
}

// The MRTD from the module's rules, written out here: SHA-384 over 128-byte records,
// "MEM.PAGE.ADD" + GPA per page, and for measured sections "MR.EXTEND" + GPA then the
// 256 bytes, per chunk, right after the page's ADD.
std::string independent_mrtd(const std::vector<uint8_t>& img, const std::vector<Sec>& secs) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha384(), nullptr);
  auto record = [&](const char* tag, uint64_t gpa) {
    uint8_t r[128] = {};
    std::memcpy(r, tag, std::strlen(tag));
    for (int i = 0; i < 8; ++i) r[16 + i] = static_cast<uint8_t>(gpa >> (8 * i));
    EVP_DigestUpdate(ctx, r, sizeof r);
  };
  for (const Sec& s : secs)
    for (uint64_t p = 0; p < s.size; p += 4096) {
      record("MEM.PAGE.ADD", s.gpa + p);
      if (!(s.attributes & 1)) continue;
      for (uint64_t c = p; c < p + 4096; c += 256) {
        record("MR.EXTEND", s.gpa + c);
        uint8_t chunk[256] = {};
        for (uint64_t i = 0; i < 256; ++i)
          if (c + i < s.raw_size) chunk[i] = img[s.data_offset + c + i];
        EVP_DigestUpdate(ctx, chunk, sizeof chunk);
      }
    }
  uint8_t d[48];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx, d, &n);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (uint8_t x : d) hex += "0123456789abcdef"[x >> 4], hex += "0123456789abcdef"[x & 15];
  return hex;
}

TEST(Tdvf, ParsesEverySectionInOrder) {
  const auto img = build();
  const TdvfMetadata md = parse_tdvf(img);
  EXPECT_EQ(md.offset, kMetadataAt);
  ASSERT_EQ(md.sections.size(), 3u);
  EXPECT_EQ(md.sections[0].type, SectionType::kBfv);
  EXPECT_TRUE(md.sections[0].measured());
  EXPECT_EQ(md.sections[0].gpa, 0xffff0000u - 0x8000);
  EXPECT_EQ(md.sections[1].type, SectionType::kTempMem);
  EXPECT_EQ(md.sections[2].type, SectionType::kTdHob);
  EXPECT_EQ(md.sections[2].size, 0x1000u);
}

TEST(Tdvf, MrtdFollowsTheModuleRules) {
  const auto img = build();
  EXPECT_EQ(predict_tdvf_mrtd(parse_tdvf(img), img).hex(), independent_mrtd(img, default_sections()));
  // The measured bytes matter, the unmeasured sections' GPAs matter.
  auto changed = img;
  changed[0x100] ^= 1;
  EXPECT_NE(predict_tdvf_mrtd(parse_tdvf(changed), changed).hex(), independent_mrtd(img, default_sections()));
  auto secs = default_sections();
  secs[1].gpa += 0x10000;
  const auto moved = build(secs);
  EXPECT_EQ(predict_tdvf_mrtd(parse_tdvf(moved), moved).hex(), independent_mrtd(moved, secs));
  EXPECT_NE(independent_mrtd(moved, secs), independent_mrtd(img, default_sections()));
}

// One broken field at a time: the error names it.
struct Broken {
  const char* name;
  std::function<void(std::vector<uint8_t>&)> edit;
  const char* message;
};

std::ostream& operator<<(std::ostream& os, const Broken& b) { return os << b.name; }

class TdvfBroken : public ::testing::TestWithParam<Broken> {};

TEST_P(TdvfBroken, NamesTheField) {
  auto img = build();
  GetParam().edit(img);
  try {
    parse_tdvf(img);
    FAIL() << "accepted";
  } catch (const FirmwareError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().message), std::string::npos) << e.what();
  }
}

size_t sec(size_t i, size_t field) { return kMetadataAt + 16 + 32 * i + field; }

INSTANTIATE_TEST_SUITE_P(
    Fields, TdvfBroken,
    ::testing::Values(
        Broken{"too_small", [](auto& b) { b.resize(100); }, "too small"},
        Broken{"no_footer", [](auto& b) { b[kSize - 48] ^= 1; }, "no footer GUID"},
        Broken{"table_total", [](auto& b) { put(b, kSize - 50, 0xffff, 2); }, "total length 65535"},
        Broken{"table_entry_len", [](auto& b) { put(b, kSize - 50 - 18, 3, 2); }, "entry 0 (ending at"},
        Broken{"no_tdx_entry", [](auto& b) { b[kSize - 50 - 16] ^= 1; }, "no TDX metadata offset entry"},
        Broken{"offset_outside", [](auto& b) { put(b, kSize - 50 - 22, 0x7fffffff, 4); }, "outside the"},
        Broken{"signature", [](auto& b) { b[kMetadataAt] = 'X'; }, "Signature"},
        Broken{"version", [](auto& b) { put(b, kMetadataAt + 8, 2, 4); }, "Version 2"},
        Broken{"count", [](auto& b) { put(b, kMetadataAt + 12, 1, 4); }, "NumberOfSectionEntries 1"},
        Broken{"length", [](auto& b) { put(b, kMetadataAt + 4, 17, 4); }, "Length 17 does not match"},
        Broken{"length_past_end",
               [](auto& b) {
                 put(b, kMetadataAt + 12, 200, 4);
                 put(b, kMetadataAt + 4, 16 + 32 * 200, 4);
               },
               "runs past the end"},
        Broken{"type", [](auto& b) { put(b, sec(1, 24), 9, 4); }, "section[1].Type 9"},
        Broken{"attributes", [](auto& b) { put(b, sec(0, 28), 0x100, 4); }, "section[0].Attributes 0x100"},
        Broken{"gpa_unaligned", [](auto& b) { put(b, sec(1, 8), 0x800010, 8); }, "section[1].MemoryAddress 0x800010"},
        Broken{"size_unaligned", [](auto& b) { put(b, sec(2, 16), 0x1001, 8); }, "section[2].MemoryDataSize 0x1001"},
        Broken{"size_zero", [](auto& b) { put(b, sec(2, 16), 0, 8); }, "section[2].MemoryDataSize 0x0"},
        Broken{"beyond_4g", [](auto& b) { put(b, sec(1, 8), 0xfffff000ull, 8); }, "reaches beyond 4 GiB"},
        Broken{"wrapping", [](auto& b) { put(b, sec(1, 8), 0xfffffffffffff000ull, 8); }, "reaches beyond 4 GiB"},
        Broken{"raw_over_size", [](auto& b) { put(b, sec(0, 4), 0x9000, 4); }, "RawDataSize 0x9000 exceeds"},
        Broken{"bfv_without_data", [](auto& b) { put(b, sec(0, 4), 0, 4); }, "section[0] (BFV): RawDataSize 0"},
        Broken{"hob_with_data", [](auto& b) { put(b, sec(2, 4), 0x10, 4); }, "section[2] (TD_HOB): RawDataSize 0x10"},
        Broken{"data_past_end",
               [](auto& b) {
                 put(b, sec(0, 0), 0xc000, 4);
                 put(b, sec(0, 4), 0x8000, 4);
               },
               "runs past the"},
        Broken{"overlap", [](auto& b) { put(b, sec(2, 8), 0x801000, 8); }, "section[2] [0x801000, +0x1000) overlaps section[1]"}),
    [](const auto& info) { return std::string(info.param.name); });

// Hostile bytes: any single corruption of the metadata or the table is refused or
// parsed, never read out of bounds (ASan checks in CI) nor hung.
TEST(Tdvf, CorruptedImagesNeverCrash) {
  const auto good = build();
  std::mt19937 rng(12345);
  int refused = 0;
  for (int i = 0; i < 4000; ++i) {
    auto img = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = (rng() & 1) ? kMetadataAt + rng() % (16 + 32 * 3) : kSize - 50 - 44 + rng() % 62;
      img[at] = static_cast<uint8_t>(rng());
    }
    try {
      const TdvfMetadata md = parse_tdvf(img);
      predict_tdvf_mrtd(md, img);
    } catch (const FirmwareError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 200);
}

// Both Debian builds (tests/firmware/debian_ovmf.h): the metadata parses and the MRTD
// matches the one computed here from the rules.
void check_metadata_and_mrtd(const char* path) {
  const auto img = debian_ovmf::read_file_bytes(path);
  const TdvfMetadata md = parse_tdvf(img);
  ASSERT_GE(md.sections.size(), 2u);
  std::vector<Sec> secs;
  int bfv = 0, hob = 0;
  for (const TdvfSection& s : md.sections) {
    secs.push_back({s.data_offset, s.raw_size, s.gpa, s.size, static_cast<uint32_t>(s.type), s.attributes});
    bfv += s.type == SectionType::kBfv;
    hob += s.type == SectionType::kTdHob;
    if (s.type == SectionType::kBfv) {
      EXPECT_TRUE(s.measured());
      EXPECT_EQ(s.gpa + s.size, 1ull << 32) << "the BFV ends at 4 GiB, holding the reset vector";
    }
  }
  EXPECT_EQ(bfv, 1);
  EXPECT_EQ(hob, 1);
  EXPECT_EQ(predict_tdvf_mrtd(md, img).hex(), independent_mrtd(img, secs));
}

TEST(TdvfDebianOvmf, TrixieMetadataAndMrtd) {
  if (auto why = debian_ovmf::ovmf_missing(debian_ovmf::kTrixieOvmf, debian_ovmf::kTrixieOvmfSize); !why.empty()) GTEST_SKIP() << why;
  check_metadata_and_mrtd(debian_ovmf::kTrixieOvmf);
}

TEST(TdvfDebianOvmf, BookwormMetadataAndMrtd) {
  if (auto why = debian_ovmf::ovmf_missing(debian_ovmf::kBookwormOvmf, debian_ovmf::kBookwormOvmfSize); !why.empty())
    GTEST_SKIP() << why;
  check_metadata_and_mrtd(debian_ovmf::kBookwormOvmf);
}

}  // namespace
}  // namespace tdsim::firmware
