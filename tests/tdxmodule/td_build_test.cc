// The TD build model (tdx/td_build.h) and the MRTD the TdxModule reports: accumulated
// from the calls made, equal to the prediction when the build is the launch order,
// different as soon as the build differs; every refusal with the module's status, and a
// refused call hashes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "conformance/runner.h"
#include "core/guest_memory.h"
#include "core/launch_order.h"
#include "tdsim/abi/tdx.h"
#include "tdx/td_build.h"
#include "tdx/tdx_module.h"

namespace tdsim::tdx {
namespace {

using measure::predict_mrtd;

TdImage suite_image(uint32_t vcpus = 2, uint32_t gpaw = 48) {
  conformance::SuiteOptions o;
  o.nr_vcpus = vcpus;
  o.gpaw = gpaw;
  return conformance::build_suite_image(o);
}

// The suite image with two more private regions above its RAM: one measured, holding
// bytes, one added only.
TdImage image_with_extra_regions() {
  TdImage im = suite_image();
  uint64_t top = 0;
  for (const Region& r : im.regions)
    if (!r.shared && r.gpa < 0x80000000ull) top = std::max(top, r.end());
  top = ((top + 0xfffff) & ~0xfffffull) + 0x1000000;  // clear of the ucall MMIO hole
  std::vector<uint8_t> bytes(0x1800);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  im.regions.push_back(make_region("extra-measured", RegionKind::kRam, top, 0x2000, bytes, true, false));
  im.regions.push_back(make_region("extra-added", RegionKind::kRam, top + 0x10000, 0x3000, {}, false, false));
  return im;
}

measure::Mrtd built_mrtd(const TdImage& im) {
  GuestMemory mem(im);
  TdxModule m(im, mem);
  m.build_td();
  return m.mrtd();
}

TEST(TdBuildMrtd, AccumulatedEqualsPredictedForTheLaunchOrder) {
  const TdImage images[] = {suite_image(), suite_image(1), suite_image(5, 52), image_with_extra_regions()};
  for (const TdImage& im : images) {
    SCOPED_TRACE(testing::Message() << im.nr_vcpus << " vCPUs, GPAW " << im.gpaw << ", " << im.regions.size()
                                    << " regions");
    EXPECT_EQ(built_mrtd(im), predict_mrtd(im));
  }
  // The images differ, so the equalities above are not one value four times.
  EXPECT_NE(built_mrtd(images[0]), built_mrtd(images[3]));
}

TEST(TdBuildMrtd, CountsMatchTheLaunchOrder) {
  const TdImage im = image_with_extra_regions();
  GuestMemory mem(im);
  TdxModule m(im, mem);
  m.build_td();
  uint64_t pages = 0, measured = 0;
  for (const PageAdd& p : launch_page_order(im)) {
    ++pages;
    measured += p.measured;
  }
  EXPECT_EQ(m.td_build().pages_added(), pages);
  EXPECT_EQ(m.td_build().chunks_extended(), measured * 16);
  EXPECT_EQ(m.td_build().vcpus(), im.nr_vcpus);
  EXPECT_EQ(m.td_build().op_state(), TdBuild::OpState::kRunnable);
}

// What a TDREPORT says is what was built: a build with one page more, or one fewer,
// reports another MRTD than the image's prediction.
TEST(TdBuildMrtd, ABuildThatAddsAnotherPageReportsAnotherMrtd) {
  const TdImage im = suite_image();
  const std::vector<PageAdd> order = launch_page_order(im);
  const Region* pool = im.find(RegionKind::kUcallPool);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->shared);  // never added by the launch order, yet backed by memory

  std::vector<PageAdd> more = order;
  more.push_back({pool->gpa, false, pool});
  GuestMemory mem(im);
  TdxModule m(im, mem);
  m.build_td(more);
  EXPECT_NE(m.mrtd(), predict_mrtd(im));
  EXPECT_EQ(m.td_build().pages_added(), order.size() + 1);

  std::vector<PageAdd> fewer(order.begin(), order.end() - 1);
  GuestMemory mem2(im);
  TdxModule m2(im, mem2);
  m2.build_td(fewer);
  EXPECT_NE(m2.mrtd(), predict_mrtd(im));
  EXPECT_NE(m2.mrtd(), m.mrtd());
}

TEST(TdBuildMrtd, MeasuringOneMoreChunkChangesMrtd) {
  TdImage im;
  im.regions = {make_region("ram", RegionKind::kRam, 0x10000, 0x2000, {}, false, false)};
  GuestMemory mem(im);
  TdBuild a(mem), b(mem);
  for (TdBuild* t : {&a, &b}) {
    ASSERT_TRUE(t->mng_init({}).ok());
    ASSERT_TRUE(t->vp_init().ok());
    ASSERT_TRUE(t->page_add(0x10000).ok());
    ASSERT_TRUE(t->page_add(0x11000).ok());
  }
  ASSERT_TRUE(b.mr_extend(0x11f00).ok());
  ASSERT_TRUE(a.mr_finalize().ok());
  ASSERT_TRUE(b.mr_finalize().ok());
  EXPECT_EQ(*a.mrtd(), predict_mrtd(im));
  EXPECT_NE(*b.mrtd(), *a.mrtd());
  EXPECT_EQ(b.chunks_extended(), 1u);
}

// MR.EXTEND hashes the TD's memory as it is at build time, not the image's bytes; a
// PAGE.ADD hashes no contents at all.
TEST(TdBuildMrtd, ExtendHashesTheMemoryThatWasLoaded) {
  const TdImage im = image_with_extra_regions();
  const Region& measured = im.regions[im.regions.size() - 2];
  const Region& added = im.regions.back();
  ASSERT_TRUE(measured.measured);
  ASSERT_FALSE(added.measured);
  const uint8_t x = 0x5a;

  GuestMemory mem(im);
  ASSERT_TRUE(mem.write(measured.gpa + 0x1ff0, &x, 1));  // past Region::bytes: was zero
  TdxModule m(im, mem);
  m.build_td();
  EXPECT_NE(m.mrtd(), predict_mrtd(im));

  GuestMemory mem2(im);
  ASSERT_TRUE(mem2.write(added.gpa + 0x10, &x, 1));
  TdxModule m2(im, mem2);
  m2.build_td();
  EXPECT_EQ(m2.mrtd(), predict_mrtd(im));

  // After the build, memory changes do not touch MRTD (it is build-time only).
  ASSERT_TRUE(mem2.write(measured.gpa, &x, 1));
  EXPECT_EQ(m2.mrtd(), predict_mrtd(im));
}

TEST(TdBuildMrtd, NoMrtdBeforeTheBuild) {
  const TdImage im = suite_image();
  GuestMemory mem(im);
  TdxModule m(im, mem);
  EXPECT_THROW(m.mrtd(), std::logic_error);
  EXPECT_EQ(m.td_build().op_state(), TdBuild::OpState::kUninitialized);
}

// A one-region TD for the SEAMCALL checks: 4 pages at 0x10000.
class TdBuildCalls : public ::testing::Test {
 protected:
  TdBuildCalls() {
    im_.regions = {make_region("ram", RegionKind::kRam, 0x10000, 0x4000, std::vector<uint8_t>(0x4000, 0xab), true,
                               false)};
    mem_ = std::make_unique<GuestMemory>(im_);
    b_ = std::make_unique<TdBuild>(*mem_);
  }
  void init(uint32_t vcpus = 1, TdParams p = {}) {
    p.max_vcpus = std::max(p.max_vcpus, vcpus);
    ASSERT_TRUE(b_->mng_init(p).ok());
    for (uint32_t i = 0; i < vcpus; ++i) ASSERT_TRUE(b_->vp_init().ok());
  }
  void expect(const SeamcallResult& r, uint64_t status, const char* why_has) {
    EXPECT_EQ(r.status, status) << r.why;
    EXPECT_NE(r.why.find(why_has), std::string::npos) << r.why;
  }
  // Adds the pages not added yet (unmeasured) and finalizes.
  void add_all_and_finalize() {
    for (uint64_t gpa = 0x10000; gpa < 0x14000; gpa += 0x1000) {
      if (b_->page_present(gpa)) continue;
      ASSERT_TRUE(b_->page_add(gpa).ok());
    }
    ASSERT_EQ(b_->pages_added(), 4u);
    ASSERT_TRUE(b_->mr_finalize().ok());
  }
  TdImage im_;
  std::unique_ptr<GuestMemory> mem_;
  std::unique_ptr<TdBuild> b_;
};

constexpr uint64_t kRcx = abi::kTdxOperandIdRcx;

TEST_F(TdBuildCalls, AddingAPageTwiceIsRefused) {
  init();
  ASSERT_TRUE(b_->page_add(0x10000).ok());
  expect(b_->page_add(0x10000), abi::kTdxEptEntryStateIncorrect | kRcx, "already mapped");
  EXPECT_EQ(b_->pages_added(), 1u);
  EXPECT_STREQ(seamcall_status_name(abi::kTdxEptEntryStateIncorrect | kRcx), "TDX_EPT_ENTRY_STATE_INCORRECT");
}

TEST_F(TdBuildCalls, UnalignedOrWrongLevelGpaIsRefused) {
  init();
  expect(b_->page_add(0x10800), abi::kTdxOperandInvalid | kRcx, "not a 4 KiB page");
  expect(b_->page_add(0x10001), abi::kTdxOperandInvalid | kRcx, "level");  // level 1 (2 MiB)
  expect(b_->page_add(0x10000 | (1ull << 60)), abi::kTdxOperandInvalid | kRcx, "reserved");
  ASSERT_TRUE(b_->page_add(0x10000).ok());
  expect(b_->mr_extend(0x10080), abi::kTdxOperandInvalid | kRcx, "256-byte aligned");
  EXPECT_EQ(b_->chunks_extended(), 0u);
  // Refused calls hashed nothing: the build's end result is the plain one.
  add_all_and_finalize();
  TdImage unmeasured = im_;
  unmeasured.regions[0].measured = false;
  EXPECT_EQ(*b_->mrtd(), predict_mrtd(unmeasured));
}

TEST_F(TdBuildCalls, SharedOrTooWideGpaIsRefused) {
  init();
  expect(b_->page_add(1ull << 47), abi::kTdxOperandInvalid | kRcx, "not a private GPA");
  expect(b_->mr_extend((1ull << 47) | 0x10000), abi::kTdxOperandInvalid | kRcx, "GPAW 48");
}

TEST_F(TdBuildCalls, WithGpaw52Bit47IsAPrivateAddress) {
  TdParams p;
  p.gpaw = 52;
  init(1, p);
  // Passes the GPA check; no memory backs it in this TD, which is the target page (R8).
  expect(b_->page_add(1ull << 47), abi::kTdxOperandInvalid | abi::kTdxOperandIdR8, "no TD memory");
  expect(b_->page_add(1ull << 51), abi::kTdxOperandInvalid | kRcx, "GPAW 52");
}

TEST_F(TdBuildCalls, ExtendOfAPageNeverAddedIsRefused) {
  init();
  expect(b_->mr_extend(0x10000), abi::kTdxEptEntryNotPresent | kRcx, "no page was added");
}

TEST_F(TdBuildCalls, NothingIsAddedOrMeasuredAfterFinalize) {
  init();
  add_all_and_finalize();
  const measure::Mrtd before = *b_->mrtd();
  EXPECT_EQ(b_->op_state(), TdBuild::OpState::kRunnable);
  expect(b_->page_add(0x20000), abi::kTdxOpStateIncorrect, "finalized");
  expect(b_->mr_extend(0x10000), abi::kTdxOpStateIncorrect, "finalized");
  expect(b_->mr_finalize(), abi::kTdxOpStateIncorrect, "finalized");
  EXPECT_EQ(*b_->mrtd(), before);
  EXPECT_STREQ(seamcall_status_name(abi::kTdxOpStateIncorrect), "TDX_OP_STATE_INCORRECT");
}

TEST_F(TdBuildCalls, NothingBeforeInitAndNoSecondInit) {
  expect(b_->page_add(0x10000), abi::kTdxOpStateIncorrect, "no TDH.MNG.INIT");
  expect(b_->vp_init(), abi::kTdxOpStateIncorrect, "no TDH.MNG.INIT");
  expect(b_->mr_finalize(), abi::kTdxOpStateIncorrect, "no TDH.MNG.INIT");
  TdParams bad;
  bad.gpaw = 50;
  expect(b_->mng_init(bad), abi::kTdxOperandInvalid | abi::kTdxOperandIdRdx, "GPAW 50");
  init();
  expect(b_->mng_init({}), abi::kTdxOpStateIncorrect, "being built");
}

TEST_F(TdBuildCalls, VcpusAreBoundedAndRequired) {
  TdParams p;
  p.max_vcpus = 2;
  ASSERT_TRUE(b_->mng_init(p).ok());
  expect(b_->mr_finalize(), abi::kTdxNoVcpus, "no vCPU");
  ASSERT_TRUE(b_->vp_init().ok());
  ASSERT_TRUE(b_->vp_init().ok());
  expect(b_->vp_init(), abi::kTdxMaxVcpusExceeded, "MAX_VCPUS 2");
  EXPECT_EQ(b_->vcpus(), 2u);
  ASSERT_TRUE(b_->mr_finalize().ok());
}

TEST(TdBuildPerform, TheFirstRefusedCallStopsTheBuildWithItsStatusNamed) {
  TdImage im;
  im.regions = {make_region("ram", RegionKind::kRam, 0x10000, 0x2000, {}, true, false)};
  GuestMemory mem(im);
  std::vector<PageAdd> twice = launch_page_order(im);
  twice.push_back(twice.front());
  TdBuild b(mem);
  try {
    perform_td_build(b, TdParams{}, 1, twice);
    ADD_FAILURE() << "a page added twice must stop the build";
  } catch (const TdBuildError& e) {
    EXPECT_EQ(e.status(), abi::kTdxEptEntryStateIncorrect | abi::kTdxOperandIdRcx);
    EXPECT_NE(std::string(e.what()).find("TDX_EPT_ENTRY_STATE_INCORRECT"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0x10000"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(b.mrtd().has_value());
  EXPECT_EQ(b.op_state(), TdBuild::OpState::kInitialized);

  TdBuild none(mem);
  EXPECT_THROW(perform_td_build(none, TdParams{}, 0, launch_page_order(im)), TdBuildError);  // TDX_NO_VCPUS
}

}  // namespace
}  // namespace tdsim::tdx
