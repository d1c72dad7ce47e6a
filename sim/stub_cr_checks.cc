#include "stub_cr_checks.h"

#include <fmt/format.h>

#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

namespace {

using namespace abi;
constexpr uint64_t kCr0Nw = 1u << 29, kCr0Cd = 1u << 30;

CrViolation gp(const char* rule, const char* field, std::string msg, bool tdx = false) {
  return {rule, field, std::move(msg), tdx};
}

std::optional<CrViolation> check_cr0(uint64_t v, const CrState& s) {
  const bool lma = s.efer & kEferLma;
  if (s.long_mode && (v >> 32))
    return gp("cr0-reserved", "boot_params.cr0", fmt::format("CR0 {:#x} sets reserved bits 63:32", v));
  if ((v & kCr0Pg) && !(v & kCr0Pe))
    return gp("cr0-pg-without-pe", "boot_params.cr0",
              fmt::format("CR0 {:#x} sets PG without PE: paging needs protected mode", v));
  if ((v & kCr0Nw) && !(v & kCr0Cd))
    return gp("cr0-nw-without-cd", "boot_params.cr0", fmt::format("CR0 {:#x} sets NW without CD", v));
  if ((v & kCr0Pg) && !(s.cr0 & kCr0Pg) && (s.efer & kEferLme) && !(s.cr4 & kCr4Pae))
    return gp("cr4-pae-missing", "boot_params.cr4",
              fmt::format("CR4 {:#x} lacks PAE (0x20): paging with EFER.LME needs it; MOV to CR0 "
                          "{:#x} with PG=1 raises #GP(0)",
                          s.cr4, v));
  if (lma && s.long_mode && !(v & kCr0Pg))
    return gp("cr0-pg-clear-in-64bit", "boot_params.cr0",
              fmt::format("CR0 {:#x} clears PG in 64-bit mode", v));
  if (!(v & kCr0Pe) || !(v & kCr0Ne))
    return gp("cr0-fixed-bits", "boot_params.cr0",
              fmt::format("CR0 {:#x} clears{}{}: TDX fixes PE and NE to 1", v, (v & kCr0Pe) ? "" : " PE",
                          (v & kCr0Ne) ? "" : " NE"),
              true);
  return std::nullopt;
}

std::optional<CrViolation> check_cr4(uint64_t v, const CrState& s) {
  const bool lma = s.efer & kEferLma;
  if (lma && !(v & kCr4Pae))
    return gp("cr4-pae-cleared-in-ia32e", "boot_params.cr4",
              fmt::format("CR4 {:#x} clears PAE while IA-32e mode is active (EFER.LMA=1)", v));
  if (lma && ((v ^ s.cr4) & kCr4La57))
    return gp("cr4-la57-changed-in-ia32e", "boot_params.cr4",
              fmt::format("CR4 {:#x} changes LA57 while IA-32e mode is active", v));
  std::string bad;
  if (v & kCr4Vmxe) bad += "CR4.VMXE set: TDX fixes VMXE to 0; ";
  if (v & kCr4Smxe) bad += "CR4.SMXE set: TDX fixes SMXE to 0; ";
  if (!(v & kCr4Mce)) bad += "CR4.MCE clear: TDX fixes MCE to 1; ";
  if (!bad.empty()) {
    bad.resize(bad.size() - 2);
    return gp("cr4-fixed-bits", "boot_params.cr4", fmt::format("{} (CR4 {:#x})", bad, v), true);
  }
  return std::nullopt;
}

std::optional<CrViolation> check_cr3(uint64_t v, const CrState& s) {
  if (!s.long_mode || s.maxphyaddr >= 64) return std::nullopt;
  // Bit 63 is the PCID no-flush hint, not an address bit.
  const uint64_t reserved = (v & ~(1ull << 63)) >> s.maxphyaddr;
  if (!reserved) return std::nullopt;
  return gp("cr3-reserved", "boot_params.cr3",
            fmt::format("CR3 {:#x} sets bits above MAXPHYADDR {}", v, s.maxphyaddr));
}

}  // namespace

std::optional<MovToCr> decode_mov_to_cr(std::span<const uint8_t> b, bool long_mode) {
  size_t i = 0;
  uint8_t rex = 0;
  if (long_mode && i < b.size() && (b[i] & 0xf0) == 0x40) rex = b[i++];
  if (i + 3 > b.size() || b[i] != 0x0f || b[i + 1] != 0x22) return std::nullopt;
  const uint8_t modrm = b[i + 2];
  // MOV CR always uses the register form; the mod bits are ignored by the CPU.
  MovToCr m;
  m.cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
  m.gpr = (modrm & 7) | ((rex & 1) ? 8 : 0);
  m.length = static_cast<uint32_t>(i + 3);
  return m;
}

std::optional<CrViolation> check_cr_write(int cr, uint64_t value, const CrState& s) {
  if (!s.long_mode) value &= 0xffffffffull;
  switch (cr) {
    case 0: return check_cr0(value, s);
    case 3: return check_cr3(value, s);
    case 4: return check_cr4(value, s);
    default: return std::nullopt;
  }
}

}  // namespace tdsim::sim
