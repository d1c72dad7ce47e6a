// Known-answer MRTDs. The expected digests were computed by make_vectors.py (Python
// hashlib, written from the rules in docs/tdx-abi.md, "MRTD accumulation", without
// looking at the C++), not by this code.
#include <gtest/gtest.h>

#include <array>

#include "bootstub/measure/mrtd.h"
#include "mrtd_test_support.h"

namespace tdsim::measure {
namespace {

using mtest::mixed_image;
using mtest::pattern;
using mtest::region;
using mtest::two_page_image;

constexpr char kEmpty[] =
    "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b";
constexpr char kOnePageAdd[] =
    "fcdabf6fdf38b87d2e3a89b1ab68c242abb261dffa70ef6f1dc2220c2752d2729cdf1be92afc2e0e4297f04e2b629552";
constexpr char kOnePageExtend[] =
    "1d6a39508485f397068c05784a4b63a370570e76aece69da8d9803c7ec110b31872fb82a115e9bb2ba454fad78293be6";
constexpr char kMixedImage[] =
    "aeb7923babd711c59d67ca609ac4df1c73ffe9d6eca8be59c63472c8854a802cdb62439ab9550c1cecff786c02355207";
constexpr char kTwoPageKvm[] =
    "8541ba21d12b871fff28d795c47c19eba31d025975328a9d1e3e2119b32ca0ca124704c48b9b7259772ef0452e7baaa9";
constexpr char kTwoPageTwoPass[] =
    "fad859add89bd7bbc33ecb79f1e459741b15faf3a48921c31074717f596f2430eb45035aafba00518d79e913725cced4";

TEST(MrtdKat, NothingAddedIsSha384OfEmptyInput) {
  MrtdAccumulator acc;
  EXPECT_EQ(acc.finalize().hex(), kEmpty);
  EXPECT_EQ(predict_mrtd(TdImage{}).hex(), kEmpty);
}

TEST(MrtdKat, OnePageAddAt0x1000) {
  MrtdAccumulator acc;
  acc.page_add(0x1000);
  EXPECT_EQ(acc.finalize().hex(), kOnePageAdd);

  TdImage img;
  img.regions = {region("p", 0x1000, 0x1000, pattern(4096, 7, 3), false, false)};
  EXPECT_EQ(predict_mrtd(img).hex(), kOnePageAdd) << "unmeasured page contents must not count";
}

TEST(MrtdKat, OnePageAddedAndExtendedWithPattern) {
  std::vector<uint8_t> page = pattern(4096, 7, 3);
  MrtdAccumulator acc;
  acc.page_add(0x1000);
  for (uint64_t off = 0; off < 4096; off += 256)
    acc.mr_extend(0x1000 + off, std::span<const uint8_t, 256>(page.data() + off, 256));
  EXPECT_EQ(acc.finalize().hex(), kOnePageExtend);

  TdImage img;
  img.regions = {region("p", 0x1000, 0x1000, page, false, true)};
  EXPECT_EQ(predict_mrtd(img).hex(), kOnePageExtend);
}

TEST(MrtdKat, MixedImageSkipsSharedAndOnlyAddsUnmeasured) {
  EXPECT_EQ(predict_mrtd(mixed_image()).hex(), kMixedImage);
}

TEST(MrtdKat, SharedRegionContentsAndPresenceDoNotMatter) {
  TdImage img = mixed_image();
  img.regions[2].bytes.assign(4096, 0xee);
  EXPECT_EQ(predict_mrtd(img).hex(), kMixedImage);
  img.regions.erase(img.regions.begin() + 2);
  EXPECT_EQ(predict_mrtd(img).hex(), kMixedImage);
}

TEST(MrtdKat, UnmeasuredPrivateRegionIsStillAdded) {
  TdImage img = mixed_image();
  img.regions.erase(img.regions.begin() + 1);  // drop "heap": one PAGE.ADD fewer
  EXPECT_NE(predict_mrtd(img).hex(), kMixedImage);
}

TEST(MrtdKat, PerPageAndTwoPassDifferAndMatchTheirVectors) {
  TdImage img = two_page_image();
  EXPECT_EQ(predict_mrtd(img).hex(), kTwoPageKvm) << "default order is KVM per-page";
  EXPECT_EQ(predict_mrtd(img, MeasureOrder::kKvmPerPage).hex(), kTwoPageKvm);
  EXPECT_EQ(predict_mrtd(img, MeasureOrder::kTwoPass).hex(), kTwoPageTwoPass);
}

TEST(MrtdKat, OrdersAgreeForASinglePage) {
  // With one page the two orders issue the same record sequence.
  TdImage img;
  img.regions = {region("p", 0x1000, 0x1000, pattern(4096, 7, 3), false, true)};
  EXPECT_EQ(predict_mrtd(img, MeasureOrder::kTwoPass).hex(), kOnePageExtend);
}

TEST(MrtdKat, HexRoundTripsAndReadsFromTdreport) {
  Mrtd m = Mrtd::from_hex(kMixedImage);
  EXPECT_EQ(m.hex(), kMixedImage);
  std::array<uint8_t, 1024> report{};
  std::copy(m.digest.begin(), m.digest.end(), report.begin() + 528);
  EXPECT_EQ(Mrtd::from_tdreport(report), predict_mrtd(mixed_image()));
}

}  // namespace
}  // namespace tdsim::measure
