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
  std::vector<Event> b{uc(0, abi::kUcallSync, 1)};  // ended without DONE
  auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->vcpu.has_value());
  EXPECT_EQ(d->left, "BUDGET");
  EXPECT_EQ(d->right, "FAULT");
}

FaultEvent fault(int vector, uint64_t rip, uint64_t ec, bool triple) {
  return FaultEvent{0, rip, vector, ec, triple, "detail differs freely", {"explanations too"}};
}

TEST(EventDiff, TwoDifferentFaultsDoNotAgree) {
  std::vector<Event> a{uc(0, abi::kUcallSync, 1), fault(14, 0x1000, 2, false)};
  std::vector<Event> b{uc(0, abi::kUcallSync, 1), fault(13, 0x1000, 0, false)};
  auto d = first_divergence(a, b, 1);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->vcpu, 0u);
  EXPECT_NE(d->left.find("exception 14"), std::string::npos) << d->left;
  std::vector<Event> c{uc(0, abi::kUcallSync, 1), fault(14, 0x2000, 2, false)};
  EXPECT_TRUE(first_divergence(a, c, 1).has_value()) << "same vector at another RIP";
  std::vector<Event> e{uc(0, abi::kUcallSync, 1), fault(14, 0x1000, 0, false)};
  EXPECT_TRUE(first_divergence(a, e, 1).has_value()) << "same vector, other error code";
}

TEST(EventDiff, TripleFaultsAgreeWhenOneSideCannotNameTheVector) {
  std::vector<Event> a{fault(14, 0x1000, 2, true)};
  std::vector<Event> b{fault(-1, 0x1000, 0, true)};  // KVM_EXIT_SHUTDOWN: no vector
  EXPECT_FALSE(first_divergence(a, b, 1).has_value());
  std::vector<Event> c{fault(14, 0x1000, 2, false)};
  EXPECT_TRUE(first_divergence(a, c, 1).has_value()) << "a triple fault is not a delivered fault";
}

}  // namespace
}  // namespace tdsim
