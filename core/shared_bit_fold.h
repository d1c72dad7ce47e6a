// Engine adaptation: some engines cannot express the TDX shared bit (GPA bit 47 or 51)
// in a page-table entry — Unicorn's TCG has a narrower physical address width, and a
// plain KVM VM whose CPUID cannot be set sees MAXPHYADDR 36 — and fault on it as a
// reserved bit. They load the image's page-table pages with the bit cleared and map
// shared regions at their untagged GPA. The TdImage itself keeps the real S-bit.
#pragma once
#include "guest_memory.h"
#include "td_image.h"

namespace tdsim {

// Clears image.shared_bit in every present entry of the kPageTables regions in `mem`.
// Returns how many entries changed.
uint64_t fold_shared_bit_in_page_tables(const TdImage& image, GuestMemory& mem);

}  // namespace tdsim
