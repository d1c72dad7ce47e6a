// The block hook's table of block facts (sim/block_facts_cache.h), engine-free: a hit is
// the block at that address and of that size only (and, for the fast path, only a block
// that needs no per-instruction hook), the table and the map agree after
// blocks collide in a slot, and forgetting (by the pages a block lies on) or clearing
// drops what the table still holds.
#include "sim/block_facts_cache.h"

#include <gtest/gtest.h>

namespace tdsim::sim {
namespace {

BlockFacts facts(uint32_t size, uint32_t icount, uint64_t last, bool port_io = false) {
  return BlockFacts{size, icount, last, port_io};
}

TEST(BlockFactsCache, FindsTheBlockAtItsAddressAndSizeOnly) {
  BlockFactsCache c;
  EXPECT_EQ(c.find(0x1000, 8), nullptr);
  c.insert(0x1000, facts(8, 3, 0x1006));
  const BlockFacts* f = c.find_recent(0x1000, 8);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->icount, 3u);
  EXPECT_EQ(f->last_insn, 0x1006u);
  EXPECT_EQ(c.find(0x1000, 9), nullptr);  // another block starts there now
  EXPECT_EQ(c.find_recent(0x1001, 8), nullptr);
}

TEST(BlockFactsCache, ABlockThatNeedsThePerInstructionHookIsNeverCountable) {
  BlockFactsCache c;
  c.insert(0x1000, facts(8, 3, 0x1006));
  c.insert(0x2000, facts(8, 2, 0x2004, true));
  EXPECT_EQ(c.find_countable(0x1000, 8), c.find_recent(0x1000, 8));
  EXPECT_EQ(c.find_countable(0x1000, 9), nullptr);
  ASSERT_NE(c.find_recent(0x2000, 8), nullptr);  // kept, and found by the slow path
  EXPECT_EQ(c.find_countable(0x2000, 8), nullptr);
  c.insert(0x2000, facts(8, 2, 0x2004));  // retranslated without port I/O
  EXPECT_NE(c.find_countable(0x2000, 8), nullptr);
  // A spin-wait's block (a PAUSE) goes to the slow path too, which may end the turn.
  BlockFacts spin = facts(4, 2, 0x3002);
  spin.pause = true;
  c.insert(0x3000, spin);
  ASSERT_NE(c.find_recent(0x3000, 4), nullptr);
  EXPECT_TRUE(c.find_recent(0x3000, 4)->pause);
  EXPECT_EQ(c.find_countable(0x3000, 4), nullptr);
  c.clear();
  EXPECT_EQ(c.find_countable(0x1000, 8), nullptr);
}

TEST(BlockFactsCache, BlocksThatShareASlotAreFoundThroughTheMap) {
  BlockFactsCache c;
  // 1,024 slots indexed by addr ^ (addr >> 10): these two addresses share slot 0.
  const uint64_t a = 0, b = (5 << 10) | 5;
  c.insert(a, facts(4, 1, a));
  c.insert(b, facts(6, 2, b + 4));
  EXPECT_EQ(c.find_recent(a, 4), nullptr);  // b took the slot
  const BlockFacts* fa = c.find(a, 4);      // from the map, back into the slot
  ASSERT_NE(fa, nullptr);
  EXPECT_EQ(fa->icount, 1u);
  EXPECT_NE(c.find_recent(a, 4), nullptr);
  EXPECT_EQ(c.find_recent(b, 6), nullptr);
  const BlockFacts* fb = c.find(b, 6);
  ASSERT_NE(fb, nullptr);
  EXPECT_EQ(fb->icount, 2u);
  EXPECT_EQ(fb->last_insn, b + 4);
}

TEST(BlockFactsCache, ForgettingARangeDropsItsBlocksFromTheTableToo) {
  BlockFactsCache c;
  c.insert(0x2000, facts(0x10, 4, 0x200c));
  c.insert(0x2ff8, facts(0x10, 2, 0x3004));  // ends on the next page
  c.insert(0x4000, facts(0x10, 5, 0x400c));
  c.forget(0x3000, 0x4000);
  EXPECT_NE(c.find(0x2000, 0x10), nullptr);
  EXPECT_EQ(c.find_recent(0x2ff8, 0x10), nullptr);
  EXPECT_EQ(c.find(0x2ff8, 0x10), nullptr);
  EXPECT_NE(c.find(0x4000, 0x10), nullptr);
  c.clear();
  EXPECT_EQ(c.find_recent(0x2000, 0x10), nullptr);
  EXPECT_EQ(c.find(0x4000, 0x10), nullptr);
}

TEST(BlockFactsCache, ABlockKeptAgainOverItsOldFactsIsForgottenByItsNewExtent) {
  BlockFactsCache c;
  c.insert(0x5ff0, facts(0x20, 3, 0x600c));  // on pages 5 and 6
  c.insert(0x5ff0, facts(0x8, 2, 0x5ff4));   // retranslated, page 5 only
  c.forget(0x6000, 0x7000);                  // the written page holds no block now
  EXPECT_NE(c.find(0x5ff0, 0x8), nullptr);
  c.forget(0x5000, 0x6000);
  EXPECT_EQ(c.find(0x5ff0, 0x8), nullptr);
  c.insert(0x5ff0, facts(0x20, 3, 0x600c));
  c.forget(0x6000, 0x7000);
  EXPECT_EQ(c.find(0x5ff0, 0x20), nullptr);
}

}  // namespace
}  // namespace tdsim::sim
