// The block hook's gate (sim/block_hook_gate.h), engine-free: each flag reads back what
// was last assigned to it, and the gate is closed exactly while some flag is away from
// the value that leaves the fast path open, whichever order they are set and cleared in.
#include "sim/block_hook_gate.h"

#include <gtest/gtest.h>

namespace tdsim::sim {
namespace {

TEST(BlockHookGate, OpenUntilAFlagLeavesItsOpenValue) {
  BlockHookGate g;
  BlockHookGate::Flag exhausted{g, BlockHookGate::kExhausted};
  BlockHookGate::Flag counting{g, BlockHookGate::kNotCounting, true};
  EXPECT_FALSE(exhausted);
  EXPECT_TRUE(counting);
  EXPECT_FALSE(g.closed());
  exhausted = true;
  EXPECT_TRUE(exhausted);
  EXPECT_TRUE(g.closed());
  exhausted = false;
  EXPECT_FALSE(g.closed());
  counting = false;  // the inverted flag closes the gate when false
  EXPECT_FALSE(counting);
  EXPECT_TRUE(g.closed());
  counting = true;
  EXPECT_FALSE(g.closed());
}

TEST(BlockHookGate, EveryFlagKeepsItsOwnBit) {
  BlockHookGate g;
  BlockHookGate::Flag a{g, BlockHookGate::kPause}, b{g, BlockHookGate::kFarJump}, c{g, BlockHookGate::kHookError};
  a = true;
  b = true;
  a = false;  // b still holds the gate closed
  EXPECT_FALSE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(c);
  EXPECT_TRUE(g.closed());
  b = false;
  EXPECT_FALSE(g.closed());
  a = true;
  a = true;  // setting twice, then clearing once, opens it
  a = false;
  EXPECT_FALSE(g.closed());
}

TEST(BlockHookGate, ChainedAssignmentSetsBothSides) {
  // vcpu.cc writes `exhausted_ = paused_ = true;` and `stopped_ = exhausted_ = false;`.
  BlockHookGate g;
  BlockHookGate::Flag exhausted{g, BlockHookGate::kExhausted};
  bool paused = false;
  exhausted = paused = true;
  EXPECT_TRUE(exhausted);
  EXPECT_TRUE(g.closed());
  bool stopped = true;
  stopped = exhausted = false;
  EXPECT_FALSE(stopped);
  EXPECT_FALSE(g.closed());
}

}  // namespace
}  // namespace tdsim::sim
