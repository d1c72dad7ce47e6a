// Round-robin determinism and Session reuse.
#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace tdsim::simtest {
namespace {

TdImage smp_image(uint32_t n) {
  TdImage im = make_boot_image(smp64(), n);
  for (uint32_t i = 0; i < n; ++i) {
    set_slot(im, static_cast<int>(2 * i), abi::kUcallPrintf, "vcpu " + std::to_string(i));
    set_slot(im, static_cast<int>(2 * i + 1), abi::kUcallDone);
  }
  return im;
}

TEST(UnicornScheduler, TwoVcpusInterleaveDeterministically) {
  const TdImage im = smp_image(2);
  const auto a = describe_all(run_image(im, limits(), 1000));
  const auto b = describe_all(run_image(im, limits(), 1000));
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 8u) << ::testing::PrintToString(a);
  // Both vCPUs report before either finishes: they really interleave.
  EXPECT_NE(a[0].substr(0, 6), a[1].substr(0, 6)) << a[0] << " / " << a[1];
  std::vector<Event> ev = run_image(im, limits(), 1000);
  int done = 0;
  for (const Event& e : ev)
    if (const auto* u = std::get_if<UcallEvent>(&e); u && u->cmd == abi::kUcallDone) ++done;
  EXPECT_EQ(done, 2);
}

TEST(UnicornScheduler, FourVcpusAllFinish) {
  const auto ev = run_image(smp_image(4));
  ASSERT_EQ(ev.size(), 16u);
  std::vector<int> prints(4);
  for (const Event& e : ev) {
    const auto& u = as<UcallEvent>(e);
    if (u.cmd == abi::kUcallPrintf) {
      ++prints.at(u.vcpu);
      EXPECT_EQ(u.text, "vcpu " + std::to_string(u.vcpu));
    }
  }
  EXPECT_EQ(prints, std::vector<int>(4, 3));
}

TEST(UnicornScheduler, InstructionBudgetIsSummedOverVcpus) {
  // Each vCPU spins ~9000 instructions before its first ucall: 4 of them exceed 20000.
  const auto ev = run_image(smp_image(4), limits(20'000), 1000);
  ASSERT_FALSE(ev.empty());
  const auto* b = std::get_if<BudgetExceededEvent>(&ev.back());
  ASSERT_NE(b, nullptr) << describe(ev.back());
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kInstructions);
}

TEST(UnicornSession, ResetGivesIdenticalEventStreams) {
  const TdImage im = smp_image(2);
  sim::Session s(im, 1000);
  std::vector<std::vector<std::string>> runs;
  for (int i = 0; i < 3; ++i) {
    std::vector<Event> ev;
    s.run(limits(), [&](const Event& e) { ev.push_back(e); });
    runs.push_back(describe_all(ev));
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
  EXPECT_EQ(runs[0].size(), 8u);
}

TEST(UnicornSession, ResetAfterHaltAndFaultRunsAgain) {
  for (const Blob& code : {hlt64(), ud2_64(), loop_forever64()}) {
    const TdImage im = make_boot_image(code);
    sim::Session s(im);
    std::vector<std::string> first, second;
    s.run(limits(100'000), [&](const Event& e) { first.push_back(describe(e)); });
    s.run(limits(100'000), [&](const Event& e) { second.push_back(describe(e)); });
    EXPECT_EQ(first, second);
    EXPECT_EQ(first.size(), 1u);
  }
}

TEST(UnicornSession, GuestMemoryIsRestoredOnReset) {
  TdImage im = make_boot_image(rcx_forbidden64());
  set_slot(im, 0, abi::kUcallDone);
  sim::Session s(im);
  s.run(limits(), [](const Event&) {});
  EXPECT_NE(read_u64(out_cells(s), 0), 0u);
  s.reset();
  EXPECT_EQ(read_u64(out_cells(s), 0), 0u);
}

}  // namespace
}  // namespace tdsim::simtest
