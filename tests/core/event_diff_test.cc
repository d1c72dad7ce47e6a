#include "core/event_diff.h"

#include <gtest/gtest.h>

namespace tdsim {
namespace {

UcallEvent uc(uint32_t vcpu, abi::UcallCmd cmd, uint64_t arg0 = 0, std::string text = {}) {
  UcallEvent u;
  u.vcpu = vcpu;
  u.cmd = cmd;
  u.args[0] = arg0;
  u.text = std::move(text);
  return u;
}

TEST(EventDiff, InterleavingAcrossVcpusIsNotADivergence) {
  std::vector<Event> a{uc(0, abi::kUcallSync, 1), uc(1, abi::kUcallSync, 2), uc(0, abi::kUcallDone),
                       uc(1, abi::kUcallDone)};
  std::vector<Event> b{uc(1, abi::kUcallSync, 2), uc(1, abi::kUcallDone), uc(0, abi::kUcallSync, 1),
                       uc(0, abi::kUcallDone)};
  EXPECT_FALSE(first_divergence(a, b, 2).has_value());
}

TEST(EventDiff, SlotAddressIsIgnored) {
  UcallEvent x = uc(0, abi::kUcallDone), y = uc(0, abi::kUcallDone);
  x.slot_gpa = 0x1000;
  y.slot_gpa = 0x2000;
  EXPECT_FALSE(first_divergence({x}, {y}, 1).has_value());
}

TEST(EventDiff, ReportsFirstDifferingUcallWithItsVcpuAndIndex) {
  std::vector<Event> a{uc(0, abi::kUcallPrintf, 0, "a"), uc(0, abi::kUcallPrintf, 0, "b")};
  std::vector<Event> b{uc(0, abi::kUcallPrintf, 0, "a"), uc(0, abi::kUcallPrintf, 0, "c")};
  auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->vcpu, 0u);
  EXPECT_EQ(d->index, 1u);
  EXPECT_NE(d->left.find("PRINTF: b"), std::string::npos);
  EXPECT_NE(d->right.find("PRINTF: c"), std::string::npos);
}

TEST(EventDiff, MissingUcallOnOneSide) {
  std::vector<Event> a{uc(0, abi::kUcallSync, 1), uc(0, abi::kUcallDone)};
  std::vector<Event> b{uc(0, abi::kUcallSync, 1), FaultEvent{0, 0x1234, 14, 0, false, "pf"}};
  auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->right, "(nothing)");
}

TEST(EventDiff, AssertLocationCompared) {
  UcallEvent x = uc(0, abi::kUcallAbort), y = uc(0, abi::kUcallAbort);
  x.assertion = AssertInfo{"a", "f.cc", 10};
  y.assertion = AssertInfo{"a", "f.cc", 11};
  EXPECT_TRUE(first_divergence({x}, {y}, 1).has_value());
}

TEST(EventDiff, OutcomeDifferenceWithoutUcallDifference) {
  std::vector<Event> a{uc(0, abi::kUcallSync, 1), BudgetExceededEvent{}};
  std::vector<Event> b{uc(0, abi::kUcallSync, 1), HaltEvent{0, 0}};
  auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->vcpu.has_value());
  EXPECT_EQ(d->left, "BUDGET");
  EXPECT_EQ(d->right, "FAULT");
}

}  // namespace
}  // namespace tdsim
