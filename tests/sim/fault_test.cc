// Budgets, exceptions, unmapped memory and HLT on the Unicorn backend.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim_test_util.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::simtest {
namespace {

using Kind = BudgetExceededEvent::Kind;

TEST(UnicornBudget, EndlessLoopRunsOutOfInstructions) {
  auto ev = run_image(make_boot_image(loop_forever64()), limits(200'000, 20'000));
  ASSERT_EQ(ev.size(), 1u);
  const auto& b = as<BudgetExceededEvent>(ev[0]);
  EXPECT_EQ(b.kind, Kind::kInstructions);
  EXPECT_EQ(b.limit, 200'000u);
}

TEST(UnicornBudget, EndlessLoopRunsOutOfWallClock) {
  const auto t0 = std::chrono::steady_clock::now();
  auto ev = run_image(make_boot_image(loop_forever64()), limits(~0ull, 200));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<BudgetExceededEvent>(ev[0]).kind, Kind::kWallClock);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(UnicornBudget, WallClockInsideOneHugeSlice) {
  // One slice could run for minutes: only the watchdog can end it in time.
  UnicornBackend b(~0ull / 2);
  const auto t0 = std::chrono::steady_clock::now();
  auto ev = run_collect(b, make_boot_image(loop_forever64()), limits(~0ull, 200));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<BudgetExceededEvent>(ev[0]).kind, Kind::kWallClock);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(UnicornFault, Ud2IsInvalidOpcode) {
  auto ev = run_image(make_boot_image(ud2_64()));
  ASSERT_EQ(ev.size(), 1u);
  const auto& f = as<FaultEvent>(ev[0]);
  EXPECT_EQ(f.vector, 6);
  EXPECT_EQ(f.rip, kCode + 1);
  EXPECT_NE(f.detail.find("0f 0b"), std::string::npos) << f.detail;
}

TEST(UnicornFault, UnmappedGpaNamesTheAddress) {
  auto ev = run_image(make_boot_image(unmapped64()));
  ASSERT_EQ(ev.size(), 1u);
  const auto& f = as<FaultEvent>(ev[0]);
  EXPECT_EQ(f.rip, kCode);
  EXPECT_NE(f.detail.find("UC_ERR_WRITE_UNMAPPED"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("0x7000000"), std::string::npos) << f.detail;
}

TEST(UnicornFault, NotPresentPageIsPageFaultWithCr2) {
  // Unicorn 2.0.1 looks the *linear* address up in its memory map before walking the
  // page tables, so a #PF is only seen for an address that is backed at the same GPA.
  auto ev = run_image(make_boot_image(page_fault64()));
  ASSERT_EQ(ev.size(), 1u);
  const auto& f = as<FaultEvent>(ev[0]);
  EXPECT_EQ(f.vector, 14);
  EXPECT_NE(f.detail.find("CR2 0x200000"), std::string::npos) << f.detail;
}

TEST(UnicornFault, Int3AtResetVectorWhenStubFallsThrough) {
  // A stub blob that is just RET-less padding: execution reaches the reset vector's
  // JMP again and loops; a stub of one INT3 faults with vector 3 instead.
  static const uint8_t int3[] = {0xcc};
  auto ev = run_image(make_image(Blob{int3, int3 + 1}));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(as<FaultEvent>(ev[0]).vector, 3);
}

// A TD's HLT is a #VE; code with no IDT (no vector-20 gate) cannot take it: the TD shuts
// down at the HLT, explained, as on the KVM backend.
TEST(UnicornHalt, RawHltWithoutAVeGateIsTheTdsShutdown) {
  auto ev = run_image(make_boot_image(hlt64()));
  ASSERT_EQ(ev.size(), 1u);
  const FaultEvent* h = test::hlt_shutdown(ev[0]);
  ASSERT_NE(h, nullptr) << describe(ev[0]);
  EXPECT_EQ(h->rip, kCode + 1);  // the HLT itself, as the KVM backend reports it
  EXPECT_NE(h->detail.find(fmt::format("HLT at {:#x} raises #VE in a TD", kCode + 1)), std::string::npos) << h->detail;
}

}  // namespace
}  // namespace tdsim::simtest
