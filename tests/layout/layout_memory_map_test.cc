// The memory map and page tables build_image() produces: regions, flags, identity
// mappings (checked with an independent page walker), shared bit, large pages.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "bootstub/host/image_builder.h"
#include "core/launch_order.h"
#include "tests/layout/page_walker.h"
#include "tests/layout/test_elf.h"

namespace tdsim {
namespace {

using layouttest::walk;

LayoutSpec spec_with(uint32_t nr_vcpus = 1, uint32_t gpaw = 48) {
  LayoutSpec s;
  s.nr_vcpus = nr_vcpus;
  s.gpaw = gpaw;
  s.guest_elf = layouttest::simple_guest().build();
  return s;
}

void expect_identity(const TdImage& img, uint64_t gva, bool shared, const std::string& what) {
  const auto t = walk(img, gva);
  ASSERT_TRUE(t.has_value()) << what << " at " << std::hex << gva << " is not mapped";
  EXPECT_EQ(t->target, gva | (shared ? img.shared_bit : 0)) << what;
  EXPECT_EQ(t->shared, shared) << what;
  EXPECT_TRUE(t->leaf & 2) << what << " not writable";
}

TEST(LayoutMemoryMap, RegionsSortedNonOverlappingAndCoverLowRam) {
  const LayoutSpec spec = spec_with(3);
  const TdImage img = build_image(spec);
  uint64_t at = 0;
  size_t i = 0;
  for (; i < img.regions.size() && img.regions[i].gpa < spec.mem_size; ++i) {
    const Region& r = img.regions[i];
    EXPECT_EQ(r.gpa, at) << r.name << " leaves a gap or overlaps";
    EXPECT_GT(r.size, 0u) << r.name;
    EXPECT_EQ(r.size % 4096, 0u) << r.name;
    EXPECT_LE(r.bytes.size(), r.size) << r.name;
    at = r.end();
  }
  EXPECT_EQ(at, spec.mem_size);
  ASSERT_EQ(img.regions.size() - i, 2u) << "only params and stub lie above low RAM";
  EXPECT_EQ(img.regions[i].kind, RegionKind::kBootParams);
  EXPECT_EQ(img.regions[i].gpa, 0xffff0000u);
  EXPECT_EQ(img.regions[i].size, 4096u);
  EXPECT_EQ(img.regions[i + 1].kind, RegionKind::kBootStub);
  EXPECT_EQ(img.regions[i + 1].gpa, 0xfffff000u);
  EXPECT_EQ(img.regions[i + 1].end(), 0x100000000u);
}

TEST(LayoutMemoryMap, MeasuredAndSharedFlagsFollowTheKind) {
  const TdImage img = build_image(spec_with(2));
  std::map<RegionKind, int> seen;
  for (const Region& r : img.regions) {
    ++seen[r.kind];
    const bool want_measured = r.kind != RegionKind::kRam && r.kind != RegionKind::kStack &&
                               r.kind != RegionKind::kUcallPool;
    EXPECT_EQ(r.measured, want_measured) << r.name;
    EXPECT_EQ(r.shared, r.kind == RegionKind::kUcallPool) << r.name;
  }
  EXPECT_EQ(seen[RegionKind::kPageTables], 1);
  EXPECT_EQ(seen[RegionKind::kDescriptors], 1);
  EXPECT_EQ(seen[RegionKind::kGuestElf], 1);  // text, data+bss: touching pages, one region
  EXPECT_EQ(seen[RegionKind::kStack], 2);
  EXPECT_EQ(seen[RegionKind::kUcallPool], 1);
}

TEST(LayoutMemoryMap, DefaultPlacementAndImageFields) {
  const TdImage img = build_image(spec_with(2));
  EXPECT_EQ(img.find(RegionKind::kPageTables)->gpa, kDefaultPageTablesGpa);
  EXPECT_EQ(img.boot.cr3, kDefaultPageTablesGpa);
  EXPECT_EQ(img.find(RegionKind::kDescriptors)->gpa, img.find(RegionKind::kPageTables)->end());
  EXPECT_EQ(img.find(RegionKind::kStack)->gpa, kDefaultStacksGpa + 4096);
  EXPECT_EQ(img.ucall_pool_gpa, kDefaultUcallPoolGpa);
  EXPECT_EQ(img.find(RegionKind::kUcallPool)->size, 18u * 4096);
  EXPECT_EQ(img.ucall_mmio_gpa, 32ull << 20);
  EXPECT_EQ(img.shared_bit, 1ull << 47);
  EXPECT_EQ(img.gpaw, 48u);
  EXPECT_EQ(img.nr_vcpus, 2u);
  EXPECT_EQ(img.guest_entry, 0x400000u);
}

TEST(LayoutMemoryMap, PageWalkIdentityMapsEverythingTheGuestTouches) {
  const TdImage img = build_image(spec_with(3));
  expect_identity(img, img.stub_gpa, false, "stub");
  expect_identity(img, 0xfffffff0, false, "reset vector");
  expect_identity(img, 0xffff0000, false, "params");
  expect_identity(img, 0x400000, false, "ELF text");
  expect_identity(img, 0x402ff8, false, "ELF bss");
  expect_identity(img, img.boot.gdtr.base, false, "GDT");
  expect_identity(img, img.boot.idtr.base, false, "IDT");
  for (const auto& v : img.per_vcpu) {
    expect_identity(img, v.esp_gva, false, "stack top");
    expect_identity(img, v.esp_gva + 8 - 4096 * kStackPages, false, "stack bottom");
  }
  const Region* pool = img.find(RegionKind::kUcallPool);
  for (uint64_t a = pool->gpa; a < pool->end(); a += 4096) expect_identity(img, a, true, "ucall pool");
  expect_identity(img, img.ucall_mmio_gpa, false, "ucall MMIO page");
  expect_identity(img, ((32ull << 20) - 1) & ~4095ull, false, "last RAM page");
}

TEST(LayoutMemoryMap, NullPageStackGuardsAndUnusedSpaceAreNotMapped) {
  const TdImage img = build_image(spec_with(3));
  EXPECT_FALSE(walk(img, 0).has_value());
  EXPECT_FALSE(walk(img, 0xfff).has_value());
  for (uint32_t i = 0; i < 3; ++i) {
    const uint64_t guard = img.per_vcpu[i].esp_gva + 8 - kStackStride;
    EXPECT_EQ(img.region_at(guard)->name, "stack-guard[" + std::to_string(i) + "]");
    EXPECT_FALSE(walk(img, guard).has_value()) << "guard of vCPU " << i;
  }
  EXPECT_FALSE(walk(img, img.ucall_mmio_gpa + 4096).has_value());
  EXPECT_FALSE(walk(img, 0x80000000).has_value());
  EXPECT_FALSE(walk(img, 0xffff1000).has_value());
  EXPECT_FALSE(walk(img, 0xffffe000).has_value());
}

TEST(LayoutMemoryMap, SharedMmioWindowIsMappedWithTheSharedBitAndBackedByNothing) {
  LayoutSpec spec = spec_with();
  spec.shared_mmio_pages = 2;
  const TdImage img = build_image(spec);
  EXPECT_EQ(img.shared_mmio_gpa, img.ucall_mmio_gpa + 4096);
  EXPECT_EQ(img.shared_mmio_size, 2u * 4096);
  for (uint64_t a = img.shared_mmio_gpa; a < img.shared_mmio_gpa + img.shared_mmio_size; a += 4096) {
    expect_identity(img, a, true, "shared MMIO window");
    EXPECT_EQ(img.region_at(a), nullptr) << "no memory behind the window";
    EXPECT_TRUE(img.in_shared_mmio(a + 8));
  }
  EXPECT_FALSE(img.in_shared_mmio(img.ucall_mmio_gpa));
  EXPECT_FALSE(walk(img, img.shared_mmio_gpa + img.shared_mmio_size).has_value());
  EXPECT_EQ(build_image(spec_with()).shared_mmio_size, 0u) << "none unless asked for";
}

TEST(LayoutMemoryMap, TwoMiBPagesWhereUniformFourKiBElsewhere) {
  const TdImage img = build_image(spec_with());
  EXPECT_EQ(walk(img, 0x200000)->page_size, 2u << 20);  // between tables and ELF
  EXPECT_EQ(walk(img, 0x1000000)->page_size, 2u << 20);
  EXPECT_EQ(walk(img, 0x1e00000)->page_size, 2u << 20);  // last 2 MiB of RAM
  EXPECT_EQ(walk(img, 0x1000)->page_size, 4096u);         // block holds page 0
  EXPECT_EQ(walk(img, 0x801000)->page_size, 4096u);       // block holds a guard
  EXPECT_EQ(walk(img, 0xc20000)->page_size, 4096u);       // block holds the shared pool
  EXPECT_EQ(walk(img, img.ucall_mmio_gpa)->page_size, 4096u);
  EXPECT_EQ(walk(img, 0xffff0000)->page_size, 4096u);
  // Never a 1 GiB leaf, anywhere in the tables.
  const Region* pt = img.find(RegionKind::kPageTables);
  uint64_t large = 0;
  for (uint64_t gva = 0; gva < (32u << 20); gva += 2u << 20) {
    const auto t = walk(img, gva + 0x1000);  // the first page may be a guard
    ASSERT_TRUE(t);
    EXPECT_LT(t->page_size, 1u << 30);
    large += t->page_size == (2u << 20);
  }
  EXPECT_EQ(large, 16u - 3u);  // all but the blocks with page 0, the guards, the pool
  // PML4, PDPT, PD for 0-1 GiB, PD for 3-4 GiB, and PTs only for the 2 MiB blocks
  // holding page 0, the stack guard, the pool, the MMIO page, params+stub.
  EXPECT_EQ(pt->size, 9u * 4096);
}

TEST(LayoutMemoryMap, ThreeGiBOfRamStaysSmallWithTwoMiBPages) {
  LayoutSpec spec = spec_with();
  spec.mem_size = 3ull << 30;
  const TdImage img = build_image(spec);
  EXPECT_EQ(walk(img, 0xbfe00000)->page_size, 2u << 20);
  EXPECT_EQ(walk(img, 0x40000000)->page_size, 2u << 20);
  expect_identity(img, 0xbffff000, false, "last RAM page");
  expect_identity(img, 0xc0000000, false, "MMIO page at mem_size");
  // PML4, PDPT, 4 PDs, PTs for page 0, guard, pool, MMIO, params+stub blocks.
  EXPECT_EQ(img.find(RegionKind::kPageTables)->size, 11u * 4096);
  EXPECT_EQ(img.regions.back().gpa, 0xfffff000u);
}

TEST(LayoutMemoryMap, Gpaw52PutsBit51InThePoolLeaves) {
  const TdImage img = build_image(spec_with(1, 52));
  EXPECT_EQ(img.shared_bit, 1ull << 51);
  const auto t = walk(img, img.ucall_pool_gpa);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->target, img.ucall_pool_gpa | (1ull << 51));
  EXPECT_FALSE(t->leaf & (1ull << 47));
}

TEST(LayoutMemoryMap, MmioGpaAbove4GiBIsIdentityMappedWithoutSharedBit) {
  LayoutSpec spec = spec_with();
  spec.ucall_mmio_gpa = 0x7f'1234'5678ull;
  const TdImage img = build_image(spec);
  EXPECT_EQ(img.ucall_mmio_gpa, 0x7f'1234'5678ull);
  expect_identity(img, 0x7f'1234'5678ull, false, "MMIO above 4 GiB");
}

TEST(LayoutMemoryMap, PlacementOverridesAreHonoured) {
  LayoutSpec spec = spec_with(2);
  spec.page_tables_gpa = 0x100000;
  spec.stacks_gpa = 0x1000000;
  spec.ucall_pool_gpa = 0x1400000;
  const TdImage img = build_image(spec);
  EXPECT_EQ(img.boot.cr3, 0x100000u);
  EXPECT_EQ(img.find(RegionKind::kPageTables)->gpa, 0x100000u);
  EXPECT_EQ(img.per_vcpu[0].esp_gva, 0x1000000u + kStackStride - 8);
  EXPECT_EQ(img.per_vcpu[1].esp_gva, 0x1000000u + 2 * kStackStride - 8);
  EXPECT_EQ(img.ucall_pool_gpa, 0x1400000u);
  expect_identity(img, 0x1400000, true, "moved pool");
  EXPECT_EQ(img.region_at(0x1000)->kind, RegionKind::kRam);
}

TEST(LayoutMemoryMap, UcallPoolSlotsKnowTheirOwnAddress) {
  const TdImage img = build_image(spec_with());
  const Region* pool = img.find(RegionKind::kUcallPool);
  for (size_t i = 0; i < abi::kUcallPoolSlots; ++i) {
    const uint64_t slot = pool->gpa + offsetof(abi::UcallPool, slots) + i * sizeof(abi::Ucall);
    EXPECT_EQ(layouttest::read_u64(img, slot + offsetof(abi::Ucall, self)), slot) << "slot " << i;
    EXPECT_EQ(layouttest::read_u64(img, slot), 0u) << "slot " << i << " cmd";
  }
  EXPECT_EQ(layouttest::read_u64(img, pool->gpa), 0u) << "in_use bitmap starts clear";
}

TEST(LayoutMemoryMap, LaunchOrderListsEveryPrivatePageOnce) {
  const LayoutSpec spec = spec_with(2);
  const TdImage img = build_image(spec);
  std::set<uint64_t> seen;
  for (const PageAdd& p : launch_page_order(img)) {
    EXPECT_TRUE(seen.insert(p.gpa).second) << std::hex << p.gpa << " twice";
    EXPECT_FALSE(p.region->shared);
    EXPECT_EQ(p.measured, p.region->measured);
  }
  uint64_t want = 0;
  for (const Region& r : img.regions)
    if (!r.shared) want += r.size / 4096;
  EXPECT_EQ(seen.size(), want);
  EXPECT_EQ(want, (spec.mem_size - 18 * 4096) / 4096 + 2);
  EXPECT_FALSE(seen.count(img.ucall_pool_gpa));
  EXPECT_TRUE(seen.count(0xffff0000) && seen.count(0xfffff000) && seen.count(0));
}

}  // namespace
}  // namespace tdsim
