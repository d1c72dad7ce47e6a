// The layout module's entry point: LayoutSpec -> TdImage (memory map, page tables,
// GDT/IDT/TSS, guest ELF, stacks, ucall pool, boot params, stub and reset vector), or a
// LayoutError naming the field at fault. Knows no backend. See docs/memory-layout.md.
#pragma once
#include <cstdint>

#include "bootstub/host/layout_spec.h"
#include "core/td_image.h"
#include "tdsim/abi/ucall.h"

namespace tdsim {

// Default placements (LayoutSpec overrides: page_tables_gpa, stacks_gpa, ucall_pool_gpa).
// Page tables start after the null-guard page; the GDT/IDT/TSS pages follow them; the
// stacks and the pool sit above the guests' 0x400000 link address (cmake/guest.ld).
inline constexpr uint64_t kDefaultPageTablesGpa = 0x1000;
inline constexpr uint64_t kDefaultStacksGpa = 0x800000;
inline constexpr uint64_t kDefaultUcallPoolGpa = 0xc00000;

// Each vCPU's slot in the stack area: one unmapped guard page, then its stack. esp_gva
// of vCPU i = stacks_gpa + (i + 1) * kStackStride - 8.
inline constexpr uint64_t kStackPages = 4;
inline constexpr uint64_t kStackStride = (kStackPages + 1) * 4096;
inline constexpr uint64_t kUcallPoolSize = (sizeof(abi::UcallPool) + 4095) & ~uint64_t{4095};

TdImage build_image(const LayoutSpec& spec);

}  // namespace tdsim
