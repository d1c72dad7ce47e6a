#include "bootstub/host/validate.h"

#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "bootstub/host/boot_params.h"
#include "bootstub/host/page_tables.h"
#include "core/cr_rules.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"

namespace tdsim {
namespace {

// Every vCPU needs a per_vcpu entry in the one params page and a ucall pool slot.
static_assert(kMaxVcpus <= abi::kMaxVcpusPerParamsPage);
static_assert(kMaxVcpus <= abi::kUcallPoolSlots);

// CR0 and CR4 as the stub will load them, judged by the rules the linter, the stub
// checks and fault explanations use (core/cr_rules.h); the first broken one is named by
// its spec field ("boot_params.cr4" is the spec's "cr4").
void check_control_registers(uint32_t cr0, uint32_t cr4, uint32_t paging_levels) {
  const std::vector<CrBreak> breaks = check_boot_registers(cr0, cr4, paging_levels);
  if (breaks.empty()) return;
  const std::string_view field = breaks.front().rule->field;
  throw LayoutError(std::string(field.substr(field.rfind('.') + 1)), breaks.front().message);
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
  if (spec.paging_levels != 4 && spec.paging_levels != 5)
    throw LayoutError("paging_levels", fmt::format("{} (must be 4 or 5)", spec.paging_levels));
  if (spec.paging_levels == 5 && spec.gpaw != 52)
    throw LayoutError("paging_levels", fmt::format("5-level paging needs GPAW 52 (gpaw is {})", spec.gpaw));
  check_control_registers(spec.cr0.value_or(kDefaultCr0), spec.cr4.value_or(default_cr4(spec.paging_levels)),
                          spec.paging_levels);
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

void validate_shared_mmio(const LayoutSpec& spec, uint64_t gpa) {
  const char* f = "shared_mmio_pages";
  const uint32_t n = spec.shared_mmio_pages;
  if (n == 0) return;
  if (n > kMaxSharedMmioPages)
    throw LayoutError(f, fmt::format("{} is more than {} pages", n, kMaxSharedMmioPages));
  const uint64_t end = gpa + uint64_t{n} * kPageSize;
  const std::string what = fmt::format("{} pages at [{:#x}, {:#x}) (after the ucall MMIO page)", n, gpa, end);
  const uint64_t sbit = abi::shared_bit_for_gpaw(spec.gpaw);
  if (end > sbit || end > kMaxIdentityGva)
    throw LayoutError(f, fmt::format("{} reach past the shared bit {:#x} or 1 << 47 (identity mapping)", what, sbit));
  struct Area { uint64_t lo, hi; const char* name; };
  for (Area a : {Area{abi::kTdBootParamsGpa, abi::kTdBootParamsGpa + kPageSize, "boot-params"},
                 Area{kStubPageGpa, abi::kFourGiB, "boot-stub"}})
    if (end > a.lo && gpa < a.hi)
      throw LayoutError(f, fmt::format("{} overlap {} [{:#x}, {:#x})", what, a.name, a.lo, a.hi));
}

}  // namespace tdsim
