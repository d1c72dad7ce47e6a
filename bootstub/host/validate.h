// Checks on a LayoutSpec that need no placement: counts, widths, control registers,
// stub size, the ucall MMIO GPA. Each failure is a LayoutError naming the LayoutSpec
// field. Placement checks (overlaps, fit in RAM) live in memory_map.h.
#pragma once
#include <cstdint>

#include "bootstub/host/layout_spec.h"

namespace tdsim {

// nr_vcpus, gpaw, mem_size, cr0/cr4 and the alignment of placement overrides.
void validate_spec(const LayoutSpec& spec);

// 0 < size and size + 2 <= 128 (the reset vector's JMP rel8 is signed).
void validate_stub_size(uint64_t size, const std::string& stub_name);

// 8-byte aligned, outside low RAM and the params/stub pages, below the shared bit and
// identity-mappable by 4-level paging.
void validate_ucall_mmio_gpa(const LayoutSpec& spec, uint64_t gpa);
// The shared MMIO window of spec.shared_mmio_pages pages at `gpa` (after the MMIO page):
// at most kMaxSharedMmioPages, identity-mappable, below the shared bit, clear of the
// params and stub pages.
void validate_shared_mmio(const LayoutSpec& spec, uint64_t gpa);

}  // namespace tdsim
