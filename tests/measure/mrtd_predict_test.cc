// predict_mrtd walks core launch_page_order(): record sequences for both orders, regions
// given out of order, zero fill past Region::bytes, rejected regions, the JSON form.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "bootstub/measure/mrtd_json.h"
#include "core/launch_order.h"
#include "mrtd_test_support.h"

namespace tdsim::measure {
namespace {

using mtest::mixed_image;
using mtest::pattern;
using mtest::Recorder;
using mtest::region;
using mtest::two_page_image;
using Seq = std::vector<std::pair<char, uint64_t>>;

void add_extends(Seq& s, uint64_t page) {
  for (uint64_t off = 0; off < 4096; off += 256) s.emplace_back('E', page + off);
}

Seq recorded(const TdImage& img, MeasureOrder order) {
  Recorder rec;
  MrtdAccumulator acc(rec.tap());
  feed_image(acc, img, order);
  return rec.records();
}

TEST(MrtdPredict, PerPageOrderIsAddThenItsSixteenExtends) {
  Seq want;
  want.emplace_back('A', 0x10000);
  add_extends(want, 0x10000);
  want.emplace_back('A', 0x11000);
  add_extends(want, 0x11000);
  EXPECT_EQ(recorded(two_page_image(), MeasureOrder::kKvmPerPage), want);
}

TEST(MrtdPredict, TwoPassOrderIsAllAddsThenAllExtends) {
  Seq want = {{'A', 0x10000}, {'A', 0x11000}};
  add_extends(want, 0x10000);
  add_extends(want, 0x11000);
  EXPECT_EQ(recorded(two_page_image(), MeasureOrder::kTwoPass), want);
}

TEST(MrtdPredict, PageAddsFollowLaunchPageOrder) {
  TdImage img = mixed_image();
  Seq adds;
  for (const auto& r : recorded(img, MeasureOrder::kKvmPerPage))
    if (r.first == 'A') adds.push_back(r);
  Seq want;
  for (const PageAdd& p : launch_page_order(img)) want.emplace_back('A', p.gpa);
  EXPECT_EQ(adds, want);
  EXPECT_EQ(adds.size(), 4u);  // code x2, heap, stub; never the shared pool at 0x8000
}

TEST(MrtdPredict, RegionsOutOfOrderMeasureInAscendingGpaOrder) {
  TdImage sorted = mixed_image();
  TdImage shuffled = sorted;
  std::swap(shuffled.regions[0], shuffled.regions[3]);
  std::swap(shuffled.regions[1], shuffled.regions[2]);
  EXPECT_EQ(recorded(shuffled, MeasureOrder::kKvmPerPage),
            recorded(sorted, MeasureOrder::kKvmPerPage));
  EXPECT_EQ(predict_mrtd(shuffled), predict_mrtd(sorted));
  EXPECT_EQ(predict_mrtd(shuffled, MeasureOrder::kTwoPass),
            predict_mrtd(sorted, MeasureOrder::kTwoPass));
}

TEST(MrtdPredict, PageBytesPastRegionBytesAreZero) {
  TdImage img;
  img.regions = {region("r", 0x3000, 0x2000, std::vector<uint8_t>(4096 + 10, 0xab), false, true)};
  Recorder rec;
  MrtdAccumulator acc(rec.tap());
  feed_image(acc, img);
  std::vector<std::vector<uint8_t>> chunks;
  for (const auto& p : rec.pieces)
    if (p.size() == 256) chunks.push_back(p);
  ASSERT_EQ(chunks.size(), 32u);
  EXPECT_EQ(chunks[15], std::vector<uint8_t>(256, 0xab));
  std::vector<uint8_t> first_of_page2(256, 0);
  std::fill_n(first_of_page2.begin(), 10, 0xab);
  EXPECT_EQ(chunks[16], first_of_page2);
  EXPECT_EQ(chunks[31], std::vector<uint8_t>(256, 0));
}

TEST(MrtdPredict, RejectsRegionsKvmCouldNotAdd) {
  TdImage partial;
  partial.regions = {region("odd", 0x1000, 0x1800, {}, false, true)};
  try {
    predict_mrtd(partial);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'odd'"), std::string::npos) << e.what();
  }
  TdImage overfull;
  overfull.regions = {region("big", 0x1000, 0x1000, std::vector<uint8_t>(4097, 1), false, true)};
  EXPECT_THROW(predict_mrtd(overfull), std::invalid_argument);
  TdImage unaligned;
  unaligned.regions = {region("mis", 0x1200, 0x1000, {}, false, false)};
  EXPECT_THROW(predict_mrtd(unaligned), std::invalid_argument);
}

TEST(MrtdPredict, SharedRegionsAreNotChecked) {
  // Shared memory never reaches the TDX module, so its shape cannot fail a measurement.
  TdImage img;
  img.regions = {region("shared-odd", 0x1000, 0x1800, {}, true, false)};
  EXPECT_EQ(predict_mrtd(img), MrtdAccumulator().finalize());
}

TEST(MrtdJson, ReportsDigestOrderCountsAndAddedRegions) {
  TdImage img = mixed_image();
  nlohmann::json j = mrtd_report_json(img);
  EXPECT_EQ(j["mrtd"], predict_mrtd(img).hex());
  EXPECT_EQ(j["order"], "kvm-per-page");
  EXPECT_EQ(j["pages_added"], 4);
  EXPECT_EQ(j["pages_extended"], 3);
  ASSERT_EQ(j["regions"].size(), 3u);
  EXPECT_EQ(j["regions"][0]["name"], "code");
  EXPECT_EQ(j["regions"][0]["gpa"], "0x2000");
  EXPECT_EQ(j["regions"][0]["size"], 0x2000);
  EXPECT_EQ(j["regions"][0]["measured"], true);
  EXPECT_EQ(j["regions"][1]["measured"], false);
  EXPECT_EQ(j["regions"][2]["gpa"], "0xfffff000");

  nlohmann::json t = mrtd_report_json(img, MeasureOrder::kTwoPass);
  EXPECT_EQ(t["order"], "two-pass");
  EXPECT_EQ(t["mrtd"], predict_mrtd(img, MeasureOrder::kTwoPass).hex());
  EXPECT_NE(t["mrtd"], j["mrtd"]);
}

}  // namespace
}  // namespace tdsim::measure
