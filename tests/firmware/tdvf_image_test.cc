// The TD built from TDVF firmware (firmware/tdvf_image.h): Debian trixie's OVMF placed where its
// metadata says, the TD HOB decoded here byte by byte against QEMU's layout, the RAM
// left unaccepted except under TempMem and TD_HOB, the sections added in metadata order
// (so the MRTD predicted from the image equals the one predicted from the metadata), and
// every layout error named.
#include "firmware/tdvf_image.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "bootstub/measure/mrtd.h"
#include "core/launch_order.h"
#include "firmware/td_hob.h"
#include "firmware/tdvf_measure.h"
#include "tests/firmware/debian_ovmf.h"

namespace tdsim::firmware {
namespace {

std::vector<uint8_t> ovmf() { return debian_ovmf::read_file_bytes(debian_ovmf::kTrixieOvmf); }

#define REQUIRE_TRIXIE_OVMF()                                                                               \
  if (auto why = debian_ovmf::ovmf_missing(debian_ovmf::kTrixieOvmf, debian_ovmf::kTrixieOvmfSize); !why.empty()) \
  GTEST_SKIP() << why

template <class T>
T at(const std::vector<uint8_t>& b, size_t off) {
  T v{};
  EXPECT_LE(off + sizeof v, b.size());
  if (off + sizeof v <= b.size()) std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

struct Resource {
  uint32_t type;
  uint32_t attributes;
  uint64_t start, length;
  bool operator==(const Resource&) const = default;
};

// Walks the HOB list the way the firmware does: header type/length, 8-byte steps.
std::vector<Resource> resources(const std::vector<uint8_t>& hob, uint64_t hob_gpa, uint64_t* end_of_list) {
  EXPECT_EQ(at<uint16_t>(hob, 0), 0x0001) << "PHIT first";
  EXPECT_EQ(at<uint16_t>(hob, 2), 56);
  EXPECT_EQ(at<uint32_t>(hob, 8), 9u) << "EFI_HOB_HANDOFF_TABLE_VERSION";
  *end_of_list = at<uint64_t>(hob, 48);
  std::vector<Resource> out;
  size_t off = 56;
  for (;;) {
    const uint16_t type = at<uint16_t>(hob, off), len = at<uint16_t>(hob, off + 2);
    if (type == 0xffff) {
      EXPECT_EQ(len, 8);
      EXPECT_EQ(*end_of_list, hob_gpa + off + 8) << "EfiEndOfHobList: just past the end HOB";
      return out;
    }
    EXPECT_EQ(type, 0x0003);
    EXPECT_EQ(len, 48);
    if (type != 0x0003 || len != 48) return out;
    out.push_back({at<uint32_t>(hob, off + 24), at<uint32_t>(hob, off + 28), at<uint64_t>(hob, off + 32),
                   at<uint64_t>(hob, off + 40)});
    off += 48;
  }
}

const Region* region_at(const TdImage& im, uint64_t gpa) { return im.region_at(gpa); }

TEST(TdvfImage, DebianOvmfIsPlacedWithQemusTdHob) {
  REQUIRE_TRIXIE_OVMF();
  const auto fw = ovmf();
  const TdImage im = tdvf_image(fw, {128ull << 20, 2, 48});
  EXPECT_EQ(im.nr_vcpus, 2u);
  EXPECT_EQ(im.shared_bit, 1ull << 47);
  // The BFV ends at 4 GiB with the file's last bytes: the reset vector.
  const Region* bfv = region_at(im, 0xfffffff0);
  ASSERT_NE(bfv, nullptr);
  EXPECT_EQ(bfv->kind, RegionKind::kFirmware);
  EXPECT_TRUE(bfv->measured);
  EXPECT_EQ(std::vector<uint8_t>(bfv->bytes.end() - 16, bfv->bytes.end()),
            std::vector<uint8_t>(fw.end() - 16, fw.end()));
  // RCX at the reset vector is the TD HOB, which describes the TD's 128 MiB.
  const Region* hob = region_at(im, im.init_rcx);
  ASSERT_NE(hob, nullptr);
  EXPECT_EQ(hob->name, "TD_HOB");
  uint64_t end = 0;
  const std::vector<Resource> res = resources(hob->bytes, hob->gpa, &end);
  const uint32_t sys = 0, unacc = 7, attr = 7;
  const std::vector<Resource> want = {
      {unacc, attr, 0, 0x800000},         {sys, attr, 0x800000, 0x6000},   // TempMem
      {unacc, attr, 0x806000, 0x3000},    {sys, attr, 0x809000, 0x2000},   // TD_HOB
      {sys, attr, 0x80b000, 0x2000},      {unacc, attr, 0x80d000, 0x4000},  // TempMem
      {sys, attr, 0x811000, 0xf000},      {unacc, attr, 0x820000, (128ull << 20) - 0x820000}};  // TempMem
  EXPECT_EQ(res, want);
  // Unaccepted RAM is private memory the VMM does not add; the sections are added.
  for (const Region& r : im.regions) {
    EXPECT_FALSE(r.shared) << r.name;
    EXPECT_EQ(r.unaccepted, r.kind == RegionKind::kRam) << r.name;
  }
}

TEST(TdvfImage, SectionsAreAddedInMetadataOrderAndTheMrtdsAgree) {
  REQUIRE_TRIXIE_OVMF();
  const auto fw = ovmf();
  const TdvfMetadata md = parse_tdvf(fw);
  const TdImage im = tdvf_image(fw, {});
  const std::vector<PageAdd> pages = launch_page_order(im);
  std::vector<uint64_t> first_pages;
  uint64_t total = 0;
  for (const TdvfSection& s : md.sections) total += s.size / 4096;
  ASSERT_EQ(pages.size(), total) << "RAM outside the sections is not added";
  for (size_t i = 0, p = 0; i < md.sections.size(); p += md.sections[i].size / 4096, ++i)
    EXPECT_EQ(pages[p].gpa, md.sections[i].gpa) << "section " << i;
  EXPECT_EQ(measure::predict_mrtd(im).hex(), predict_tdvf_mrtd(md, fw).hex());
}

TEST(TdvfImage, RamAbove2Point75GiBIsSplitAroundThePciHole) {
  REQUIRE_TRIXIE_OVMF();
  const TdImage im = tdvf_image(ovmf(), {4ull << 30, 1, 48});
  const Region* hob = region_at(im, im.init_rcx);
  ASSERT_NE(hob, nullptr);
  uint64_t end = 0;
  const std::vector<Resource> res = resources(hob->bytes, hob->gpa, &end);
  ASSERT_FALSE(res.empty());
  EXPECT_EQ(res[res.size() - 2].start + res[res.size() - 2].length, 0x80000000u) << "2 GiB below 4 GiB";
  EXPECT_EQ(res.back().start, 1ull << 32);
  EXPECT_EQ(res.back().length, 2ull << 30);
}

TEST(TdvfImage, LayoutErrorsNameWhatIsWrong) {
  REQUIRE_TRIXIE_OVMF();
  const auto fw = ovmf();
  auto error = [&](TdvfLayout l) {
    try {
      tdvf_image(fw, l);
    } catch (const FirmwareError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error({(128ull << 20) + 1, 1, 48}).find("--mem 0x8000001"), std::string::npos);
  EXPECT_NE(error({kMaxTdvfMem + 4096, 1, 48}).find("--mem"), std::string::npos);
  EXPECT_NE(error({4ull << 20, 1, 48}).find("(TempMem at 0x811000, 0xf000 bytes) is not inside the TD's RAM"),
            std::string::npos)
      << error({4ull << 20, 1, 48});
  EXPECT_NE(error({128ull << 20, 0, 48}).find("vCPUs 0"), std::string::npos);
  EXPECT_NE(error({128ull << 20, 1, 40}).find("GPAW 40"), std::string::npos);
}

TEST(TdHob, AListThatDoesNotFitItsSectionIsRefused) {
  std::vector<RamRange> many;
  for (uint64_t i = 0; i < 100; ++i) many.push_back({i * 0x2000, 0x1000, i % 2 == 0});
  EXPECT_THROW(build_td_hob(0x809000, 0x1000, many), FirmwareError);
  const auto ok = build_td_hob(0x809000, 0x2000, {many.begin(), many.begin() + 3});
  EXPECT_EQ(ok.size(), 56u + 3 * 48 + 8);
}

}  // namespace
}  // namespace tdsim::firmware
