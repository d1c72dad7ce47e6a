#include "core/outcome.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tdsim {
namespace {

UcallEvent uc(uint32_t vcpu, abi::UcallCmd cmd) {
  UcallEvent u;
  u.vcpu = vcpu;
  u.cmd = cmd;
  return u;
}

TEST(Outcome, AllVcpusDoneIsDone) {
  std::vector<Event> ev{uc(0, abi::kUcallPrintf), uc(1, abi::kUcallDone), uc(0, abi::kUcallDone)};
  EXPECT_EQ(classify(ev, 2), Outcome::kDone);
  EXPECT_EQ(exit_code(Outcome::kDone), 0);
}

TEST(Outcome, MissingDoneIsFault) {
  std::vector<Event> ev{uc(0, abi::kUcallDone)};
  EXPECT_EQ(classify(ev, 2), Outcome::kFault);
}

TEST(Outcome, AssertWinsOverFaultOnAnotherVcpu) {
  std::vector<Event> ev{uc(0, abi::kUcallAbort), FaultEvent{1, 0x10, 14, 0, false, "pf"}};
  EXPECT_EQ(classify(ev, 2), Outcome::kGuestAssert);
}

TEST(Outcome, BudgetIsBudget) {
  std::vector<Event> ev{uc(0, abi::kUcallSync), BudgetExceededEvent{}};
  EXPECT_EQ(classify(ev, 1), Outcome::kBudget);
  EXPECT_NE(exit_code(Outcome::kBudget), exit_code(Outcome::kFault));
}

// kselftest's runner reads 1 as fail, 2/3 as XFAIL/XPASS, 4 as SKIP and 124 as a
// timeout: FAULT must be a plain failure, BUDGET the timeout, SKIP the skip.
TEST(Outcome, ExitCodesFollowKselftest) {
  EXPECT_EQ(exit_code(Outcome::kGuestAssert), 1);
  EXPECT_EQ(exit_code(Outcome::kSkip), 4);
  EXPECT_EQ(exit_code(Outcome::kBudget), 124);
  for (int reserved : {0, 1, 2, 3, 4, 124}) EXPECT_NE(exit_code(Outcome::kFault), reserved);
  EXPECT_STREQ(to_string(Outcome::kSkip), "SKIP");
}

// The tracker `tdsim run` streams through must agree with classify() on every prefix of
// every ordering of a mixed stream, and keep no event.
TEST(Outcome, TrackerAgreesWithClassifyOnEveryPrefixOfEveryOrder) {
  std::vector<Event> pool{uc(0, abi::kUcallDone), uc(1, abi::kUcallDone), uc(1, abi::kUcallAbort),
                          FaultEvent{0, 0x10, 14, 0, false, "pf"}, BudgetExceededEvent{}, HaltEvent{1, 0x1000}};
  std::vector<size_t> order(pool.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  size_t checked = 0;
  do {
    OutcomeTracker t(2);
    std::vector<Event> seen;
    for (size_t i : order) {
      seen.push_back(pool[i]);
      t.add(pool[i]);
      ASSERT_EQ(t.outcome(), classify(seen, 2));
      ASSERT_EQ(t.events(), seen.size());
      ++checked;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(checked, 720u * 6);
  // Every outcome was reached somewhere in there; spot-check each.
  OutcomeTracker done(2);
  done.add(uc(1, abi::kUcallDone));
  done.add(uc(0, abi::kUcallDone));
  EXPECT_EQ(done.outcome(), Outcome::kDone);
  done.add(BudgetExceededEvent{});
  EXPECT_EQ(done.outcome(), Outcome::kBudget);
}

TEST(Outcome, TerminalEvents) {
  EXPECT_TRUE(is_terminal(uc(0, abi::kUcallDone)));
  EXPECT_FALSE(is_terminal(uc(0, abi::kUcallSync)));
  EXPECT_FALSE(is_terminal(MmioEvent{}));
  EXPECT_TRUE(is_terminal(HaltEvent{}));
  EXPECT_FALSE(vcpu_of(BudgetExceededEvent{}).has_value());
  EXPECT_EQ(*vcpu_of(HaltEvent{3, 0}), 3u);
}

TEST(Outcome, VmcallExitEventIsNotTerminalAndNamesItsVcpu) {
  const VmcallExitEvent x{2, 0x401000, 0x10002, 0x800000000000, 0x1000, 0, 0};
  EXPECT_FALSE(is_terminal(x));
  EXPECT_EQ(*vcpu_of(x), 2u);
  EXPECT_EQ(describe(x),
            "vcpu 2: tdvmcall exit at rip 0x401000: subfn 0x10002 gpa 0x800000000000 size 0x1000 "
            "arg 0x0 status 0x0");
}

TEST(Outcome, DescribeNamesTheAssertLocation) {
  UcallEvent u = uc(0, abi::kUcallAbort);
  u.text = "boom";
  u.assertion = AssertInfo{"x == 1", "guest.cc", 42};
  EXPECT_EQ(describe(u), "vcpu 0: ucall ABORT: guest.cc:42: x == 1: boom");
}

}  // namespace
}  // namespace tdsim
