// Engine adaptation: some engines cannot express the TDX shared bit (GPA bit 47 or 51)
// in a page-table entry — Unicorn's TCG has a narrower physical address width, and a
// plain KVM VM whose CPUID cannot be set sees MAXPHYADDR 36 — and fault on it as a
// reserved bit. They load the image's page-table pages with the bit cleared and map
// shared regions at their untagged GPA. The TdImage itself keeps the real S-bit.
#pragma once
#include <cstdint>
#include <map>

#include "guest_memory.h"
#include "td_image.h"

namespace tdsim {

// Clears image.shared_bit in every present entry of the kPageTables regions in `mem`.
// Returns how many entries changed.
uint64_t fold_shared_bit_in_page_tables(const TdImage& image, GuestMemory& mem);

// Where a program's own page tables (folded on the walk, below) mapped shared memory: the
// untagged GPA ranges of the leaf entries that had the shared bit. The TdImage of such a
// program knows no shared MMIO window, so this is how the engine tells a shared GPA
// (no memory behind it: KVM's MMIO, a #VE in the TD) from a private one (the fault
// stands). One per TD: every vCPU walks the same tables.
class FoldedSharedLeaves {
 public:
  void add(uint64_t gpa, uint64_t size);
  bool contains(uint64_t gpa) const;

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end, disjoint
};

// The same adaptation for page tables nobody described (a program's own, under the
// user-space KVM): clears `shared_bit` in the present entries on the walk of `linear`
// from `cr3` (4 levels, 5 with `la57`), as the engine faults on them. Returns how many
// entries changed (0: the walk had no S-bit, the fault is the guest's own). A leaf that had
// the bit goes into `leaves` (when given).
uint64_t fold_shared_bit_on_walk(GuestMemory& mem, uint64_t cr3, uint64_t linear, bool la57, uint64_t shared_bit,
                                 FoldedSharedLeaves* leaves = nullptr);

}  // namespace tdsim
