// 4- or 5-level identity page tables (GVA == GPA) built from a list of mapped page ranges:
// 2 MiB leaves where a whole aligned 2 MiB block has one set of attributes, 4 KiB leaves
// elsewhere, never 1 GiB leaves (Unicorn's CPU model lacks PDPE1GB). Pure data: knows
// nothing of regions, ELF or backends.
#pragma once
#include <cstdint>
#include <vector>

namespace tdsim {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kLargePageSize = 2ull << 20;
// Entry bits used: present, writable, and PS in a PDE for a 2 MiB leaf.
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWritable = 1ull << 1;
inline constexpr uint64_t kPteLarge = 1ull << 7;
inline constexpr uint64_t kPteAddrMask = 0x000ffffffffff000ull;
// 4-level paging translates 48-bit canonical addresses; identity mapping a GPA needs
// the GVA of the same value in the lower canonical half.
inline constexpr uint64_t kMaxIdentityGva = 1ull << 47;

struct MapRange {
  uint64_t start = 0;  // page aligned
  uint64_t end = 0;    // page aligned, exclusive
  // Leaf entries point at GPA | shared_bit: the TDX way to reach a shared page.
  bool shared = false;
};

class PageTables {
 public:
  // Ranges may come in any order and may touch; they must not overlap.
  // `levels` 4 (the first table a PML4) or 5 (a PML5; CR4.LA57).
  PageTables(std::vector<MapRange> ranges, uint64_t shared_bit, uint32_t levels = 4);

  // Number of 4 KiB table pages; the first is the top level (PML4 or PML5).
  uint64_t page_count() const { return tables_.size(); }
  // The table pages as they must appear in memory when the PML4 sits at `base`.
  std::vector<uint8_t> bytes(uint64_t base) const;

 private:
  struct Entry {
    uint64_t value = 0;  // leaf: final entry; table link: index of the child table
    bool link = false;
  };
  using Table = std::vector<Entry>;  // 512 entries

  uint64_t child(uint64_t table, unsigned index);
  void map_leaf(uint64_t gva, uint64_t size, bool shared);

  uint64_t shared_bit_;
  uint32_t levels_;
  std::vector<Table> tables_;
};

}  // namespace tdsim
