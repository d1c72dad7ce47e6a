#include "bootstub/host/validate.h"

#include <fmt/format.h>

#include "bootstub/host/boot_params.h"
#include "bootstub/host/page_tables.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"

namespace tdsim {
namespace {

// Every vCPU needs a per_vcpu entry in the one params page and a ucall pool slot.
static_assert(kMaxVcpus <= abi::kMaxVcpusPerParamsPage);
static_assert(kMaxVcpus <= abi::kUcallPoolSlots);

void check_cr0(uint32_t cr0) {
  struct Bit { uint64_t mask; const char* name; };
  for (Bit b : {Bit{abi::kCr0Pe, "PE (bit 0)"}, Bit{abi::kCr0Ne, "NE (bit 5)"}, Bit{abi::kCr0Pg, "PG (bit 31)"}})
    if (!(cr0 & b.mask))
      throw LayoutError("cr0", fmt::format("{:#x} lacks {}: the stub enters 64-bit paged mode, and "
                                           "TDX keeps PE and NE fixed to 1", cr0, b.name));
}

void check_cr4(uint32_t cr4) {
  if (!(cr4 & abi::kCr4Mce))
    throw LayoutError("cr4", fmt::format("{:#x} clears MCE (bit 6), which TDX fixes to 1", cr4));
  if (cr4 & abi::kCr4Vmxe)
    throw LayoutError("cr4", fmt::format("{:#x} sets VMXE (bit 13), which TDX fixes to 0", cr4));
  if (cr4 & abi::kCr4Smxe)
    throw LayoutError("cr4", fmt::format("{:#x} sets SMXE (bit 14), which TDX fixes to 0", cr4));
  if (!(cr4 & abi::kCr4Pae))
    throw LayoutError("cr4", fmt::format("{:#x} lacks PAE (bit 5), required for IA-32e paging", cr4));
  if (cr4 & abi::kCr4La57)
    throw LayoutError("cr4", fmt::format("{:#x} sets LA57 (bit 12), but the layout builds 4-level "
                                         "page tables", cr4));
}

void check_page_aligned(const std::optional<uint64_t>& v, const char* field) {
  if (v && *v % kPageSize)
    throw LayoutError(field, fmt::format("{:#x} is not 4 KiB aligned", *v));
}

}  // namespace

void validate_spec(const LayoutSpec& spec) {
  if (spec.nr_vcpus == 0 || spec.nr_vcpus > kMaxVcpus)
    throw LayoutError("nr_vcpus", fmt::format("{} is outside 1..{} (the params page holds {} entries, "
                                              "the ucall pool {} slots)",
                                              spec.nr_vcpus, kMaxVcpus, abi::kMaxVcpusPerParamsPage,
                                              abi::kUcallPoolSlots));
  if (spec.gpaw != 48 && spec.gpaw != 52)
    throw LayoutError("gpaw", fmt::format("{} is not a TDX guest physical address width (48 or 52)", spec.gpaw));
  if (spec.mem_size == 0 || spec.mem_size % kPageSize)
    throw LayoutError("mem_size", fmt::format("{:#x} is not a non-zero multiple of 4 KiB", spec.mem_size));
  if (spec.mem_size > abi::kTdBootParamsGpa) {
    std::string what = fmt::format("boot-params [{:#x}, {:#x})", abi::kTdBootParamsGpa, abi::kTdBootParamsGpa + kPageSize);
    if (spec.mem_size > kStubPageGpa)
      what += fmt::format(" and boot-stub [{:#x}, {:#x})", kStubPageGpa, abi::kFourGiB);
    throw LayoutError("mem_size", fmt::format("low RAM [0x0, {:#x}) overlaps {}", spec.mem_size, what));
  }
  check_cr0(spec.cr0.value_or(kDefaultCr0));
  check_cr4(spec.cr4.value_or(kDefaultCr4));
  check_page_aligned(spec.page_tables_gpa, "page_tables_gpa");
  check_page_aligned(spec.stacks_gpa, "stacks_gpa");
  check_page_aligned(spec.ucall_pool_gpa, "ucall_pool_gpa");
}

void validate_stub_size(uint64_t size, const std::string& stub_name) {
  if (size == 0) throw LayoutError("stub", fmt::format("{}: 0 bytes; the stub must not be empty", stub_name));
  if (size > abi::kMaxStubSize)
    throw LayoutError("stub", fmt::format("{}: {} bytes is too large: the reset vector's JMP rel8 reaches "
                                          "back at most {} bytes (stub size + 2 <= 128)",
                                          stub_name, size, abi::kMaxStubSize));
}

void validate_ucall_mmio_gpa(const LayoutSpec& spec, uint64_t gpa) {
  const char* f = "ucall_mmio_gpa";
  const std::string what = fmt::format("{:#x}{}", gpa, spec.ucall_mmio_gpa ? "" : " (default: mem_size)");
  if (gpa % 8) throw LayoutError(f, what + " is not 8-byte aligned (the ucall is an 8-byte MMIO write)");
  const uint64_t sbit = abi::shared_bit_for_gpaw(spec.gpaw);
  if (gpa >= sbit)
    throw LayoutError(f, fmt::format("{} is not below the shared bit {:#x} (GPAW {})", what, sbit, spec.gpaw));
  if (gpa >= kMaxIdentityGva)
    throw LayoutError(f, what + " is not below 1 << 47: 4-level paging cannot identity-map it");
  if (gpa < spec.mem_size)
    throw LayoutError(f, fmt::format("{} lies inside low RAM [0x0, {:#x}); it must be unbacked", what, spec.mem_size));
  struct Area { uint64_t lo, hi; const char* name; };
  for (Area a : {Area{abi::kTdBootParamsGpa, abi::kTdBootParamsGpa + kPageSize, "boot-params"},
                 Area{kStubPageGpa, abi::kFourGiB, "boot-stub"}})
    if (gpa + 8 > a.lo && gpa < a.hi)
      throw LayoutError(f, fmt::format("{} lies inside {} [{:#x}, {:#x})", what, a.name, a.lo, a.hi));
}

}  // namespace tdsim
