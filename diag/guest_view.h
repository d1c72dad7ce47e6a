// Reading guest data the way the guest sees it, for reports and the linter: the boot
// parameters at 0xffff0000, linear addresses (through the page tables when paging is on)
// and GDT entries. Everything comes from GuestMemory, never from TdImage copies, so an
// image changed after build_image() is seen as it really is.
#pragma once
#include <cstdint>
#include <optional>

#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/page_walk.h"
#include "tdsim/abi/td_boot.h"

namespace tdsim::diag {

std::optional<abi::TdBootParams> read_boot_params(const GuestMemory& mem);
std::optional<abi::TdPerVcpuParams> read_per_vcpu(const GuestMemory& mem, uint32_t index);
uint64_t per_vcpu_gpa(uint32_t index);

// WalkParams for this image: MAXPHYADDR = GPAW, the image's shared bit, NXE = 1 (TDX EFER),
// CR0.WP and CR4.LA57 from the registers.
WalkParams walk_params(const TdImage& image, uint64_t cr3, uint64_t gva, Access access,
                       uint64_t cr0, uint64_t cr4);

// Address translation context: paging off reads linear == physical.
struct LinearView {
  bool paging = false;
  uint64_t cr3 = 0;
  uint64_t cr0 = 0;
  uint64_t cr4 = 0;  // LA57: 5-level walks
};

// Reads [la, la+len) (len <= 4096, may cross one page boundary) as the guest would.
bool read_linear(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                 uint64_t la, void* dst, uint64_t len);

// The 8-byte GDT entry for `selector`, or nullopt when the selector is past the limit
// or the entry cannot be read.
std::optional<uint64_t> read_gdt_entry(const GuestMemory& mem, const TdImage& image,
                                       const LinearView& view, uint64_t gdt_base,
                                       uint16_t gdt_limit, uint16_t selector);

// Whether the IDT at `idtr` has a present gate for `vector` (inside the limit, readable,
// P set): a TD guest that has one is ready to take that exception.
bool idt_gate_present(const GuestMemory& mem, const TdImage& image, const LinearView& view, uint64_t idt_base,
                      uint16_t idt_limit, uint8_t vector);

}  // namespace tdsim::diag
