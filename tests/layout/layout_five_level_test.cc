// --paging-levels 5: a PML5 on top of the identity map, CR4.LA57 in the boot parameters,
// and the rules that keep CR4 and the tables in step. Walked with diag's walker (5 levels
// when CR4.LA57 says so).
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "core/cr_rules.h"
#include "core/guest_memory.h"
#include "diag/page_walk.h"
#include "tests/layout/test_elf.h"

namespace tdsim {
namespace {

LayoutSpec five_level_spec() {
  LayoutSpec s;
  s.guest_elf = layouttest::simple_guest().build();
  s.gpaw = 52;
  s.paging_levels = 5;
  return s;
}

diag::WalkParams la57_walk(const TdImage& img, uint64_t gva, bool la57 = true) {
  diag::WalkParams p;
  p.cr3 = img.boot.cr3;
  p.gva = gva;
  p.maxphyaddr = img.gpaw;
  p.shared_bit = img.shared_bit;
  p.la57 = la57;
  return p;
}

TEST(LayoutFiveLevel, TablesStartWithAPml5AndCr4SetsLa57) {
  const TdImage img = build_image(five_level_spec());
  EXPECT_EQ(img.paging_levels, 5u);
  EXPECT_EQ(img.boot.cr4 & 0x1000u, 0x1000u) << "LA57 in the boot parameters";
  GuestMemory mem(img);
  const diag::WalkResult r = diag::page_walk(mem, la57_walk(img, img.guest_entry));
  ASSERT_TRUE(r.ok()) << diag::walk_summary(r, la57_walk(img, img.guest_entry));
  ASSERT_EQ(r.steps.size(), 4u) << "PML5E, PML4E, PDPTE, then a 2 MiB PDE";
  EXPECT_EQ(r.steps[0].level, 5);
  EXPECT_EQ(r.steps[0].entry_gpa, img.boot.cr3);
  EXPECT_EQ(r.gpa, img.guest_entry) << "identity mapped";
  // The ucall pool is reached through a shared leaf on 5 levels too.
  const diag::WalkResult pool = diag::page_walk(mem, la57_walk(img, img.ucall_pool_gpa));
  ASSERT_TRUE(pool.ok());
  EXPECT_TRUE(pool.shared);
  // 57-bit canonical addresses: bit 56 must be extended.
  EXPECT_EQ(diag::page_walk(mem, la57_walk(img, 1ull << 56)).verdict, diag::WalkVerdict::kNonCanonical);
  EXPECT_EQ(diag::page_walk(mem, la57_walk(img, 1ull << 50)).verdict, diag::WalkVerdict::kNotPresent)
      << "canonical with LA57 (not with 4 levels)";
  EXPECT_EQ(diag::page_walk(mem, la57_walk(img, 1ull << 50, false)).verdict, diag::WalkVerdict::kNonCanonical);
  EXPECT_STREQ(diag::level_name(5), "PML5E");
}

TEST(LayoutFiveLevel, OnePageMoreThanFourLevels) {
  LayoutSpec four = five_level_spec();
  four.paging_levels = 4;
  const TdImage a = build_image(four), b = build_image(five_level_spec());
  EXPECT_EQ(b.find(RegionKind::kPageTables)->size, a.find(RegionKind::kPageTables)->size + 4096);
}

TEST(LayoutFiveLevel, RefusedWhereItCannotWork) {
  LayoutSpec s = five_level_spec();
  s.gpaw = 48;
  try {
    build_image(s);
    ADD_FAILURE() << "5-level with GPAW 48 accepted";
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "paging_levels");
    EXPECT_NE(std::string(e.what()).find("GPAW 52"), std::string::npos) << e.what();
  }
  s = five_level_spec();
  s.paging_levels = 3;
  EXPECT_THROW(build_image(s), LayoutError);
  // The tables and CR4 must agree both ways.
  s = five_level_spec();
  s.cr4 = 0x260;  // no LA57
  try {
    build_image(s);
    ADD_FAILURE() << "5-level tables with CR4.LA57 clear accepted";
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "cr4");
    EXPECT_NE(std::string(e.what()).find("lacks LA57"), std::string::npos) << e.what();
  }
  EXPECT_EQ(check_boot_registers(0x80000021, 0x1260, 5).size(), 0u);
  ASSERT_EQ(check_boot_registers(0x80000021, 0x1260, 4).size(), 1u);
  EXPECT_EQ(check_boot_registers(0x80000021, 0x1260, 4)[0].rule->id, kRuleCr4La57Set);
  EXPECT_EQ(check_boot_registers(0x80000021, 0x260, 5)[0].rule->id, kRuleCr4La57Missing);
}

}  // namespace
}  // namespace tdsim
