#include "core/shared_bit_fold.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tdsim {
namespace {

constexpr uint64_t kS = 1ull << 47;  // GPAW 48

// Four page-table pages at 0x1000..0x4000 mapping GVA 0x200000 through a 4 KiB leaf.
struct Tables {
  TdImage img;
  std::unique_ptr<GuestMemory> mem;
  Tables(uint64_t pml4e_bits, uint64_t leaf_bits) {
    img.shared_bit = kS;
    img.regions = {Region{"pt", RegionKind::kRam, 0x1000, 0x5000, {}}};
    mem = std::make_unique<GuestMemory>(img);
    put(0x1000, 0x2000 | 3 | pml4e_bits);           // PML4[0]
    put(0x2000, 0x3000 | 3);                        // PDPT[0]
    put(0x3000 + 8 * 1, 0x4000 | 3);                // PD[1] (2 MiB)
    put(0x4000, 0x5000 | 3 | leaf_bits);            // PT[0]
  }
  void put(uint64_t gpa, uint64_t v) { ASSERT_TRUE(mem->write(gpa, &v, 8)); }
  uint64_t get(uint64_t gpa) const {
    uint64_t v = 0;
    EXPECT_TRUE(mem->read(gpa, &v, 8));
    return v;
  }
};

TEST(SharedBitFold, OnWalkClearsTheBitOnlyAlongTheWalk) {
  Tables t(0, kS);
  t.put(0x4000 + 8, 0x6000 | 3 | kS);  // another shared leaf, not on this walk
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x200000, false, kS), 1u);
  EXPECT_EQ(t.get(0x4000), 0x5000u | 3);
  EXPECT_EQ(t.get(0x4008), 0x6000u | 3 | kS) << "off the walk: untouched";
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x200000, false, kS), 0u) << "nothing left to fold";
}

TEST(SharedBitFold, OnWalkFollowsFoldedUpperEntriesAndStopsAtHoles) {
  Tables t(kS, kS);
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x200000, false, kS), 2u);
  // A not-present entry ends the walk; a CR3 outside memory folds nothing.
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x400000, false, kS), 0u);
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x7fff000, 0x200000, false, kS), 0u);
}

// The leaves folded say where the program's tables map shared GPAs: only a leaf that had
// the bit is recorded (an upper entry with it says nothing of the pages below), by its
// untagged GPA and its size.
TEST(SharedBitFold, OnWalkRecordsTheSharedLeavesItFolded) {
  Tables t(kS, 0);
  FoldedSharedLeaves leaves;
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x200000, false, kS, &leaves), 1u);
  EXPECT_FALSE(leaves.contains(0x5000)) << "the private leaf under a shared PML4 entry";
  t.put(0x4000, 0x5000 | 3 | kS);
  t.put(0x3000 + 8 * 2, 0x400000 | 0x83 | kS);  // PD[2]: a shared 2 MiB page
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x200000, false, kS, &leaves), 1u);
  EXPECT_EQ(fold_shared_bit_on_walk(*t.mem, 0x1000, 0x400123, false, kS, &leaves), 1u);
  EXPECT_TRUE(leaves.contains(0x5000));
  EXPECT_TRUE(leaves.contains(0x5fff));
  EXPECT_FALSE(leaves.contains(0x6000));
  EXPECT_FALSE(leaves.contains(0x4fff));
  EXPECT_TRUE(leaves.contains(0x400000));
  EXPECT_TRUE(leaves.contains(0x5fffff));
  EXPECT_FALSE(leaves.contains(0x600000));
}

TEST(SharedBitFold, FoldedLeavesMergeTouchingRanges) {
  FoldedSharedLeaves leaves;
  leaves.add(0x3000, 0x1000);
  leaves.add(0x1000, 0x1000);
  EXPECT_FALSE(leaves.contains(0x2000));
  leaves.add(0x2000, 0x1000);
  for (uint64_t a : {0x1000ull, 0x2000ull, 0x3fffull}) EXPECT_TRUE(leaves.contains(a)) << a;
  EXPECT_FALSE(leaves.contains(0xfff));
  EXPECT_FALSE(leaves.contains(0x4000));
}

}  // namespace
}  // namespace tdsim
