#include "core/cr_rules.h"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

#include "tdsim/abi/tdx.h"

namespace tdsim {
namespace {

using namespace abi;
constexpr uint64_t kCr0Nw = 1u << 29, kCr0Cd = 1u << 30;
constexpr uint64_t kCr3NoFlush = 1ull << 63;  // the PCID no-flush hint, not an address bit

bool ia32e(const CrRegs& s) { return s.efer & kEferLma; }

// The TDX fixed CR4 bits the value breaks, each named ("CR4.VMXE set: TDX fixes VMXE to 0"),
// joined by "; ".
std::string cr4_fixed_breaks(uint64_t v) {
  std::string bad;
  if (v & kCr4Vmxe) bad += "CR4.VMXE set: TDX fixes VMXE to 0; ";
  if (v & kCr4Smxe) bad += "CR4.SMXE set: TDX fixes SMXE to 0; ";
  if (!(v & kCr4Mce)) bad += "CR4.MCE clear: TDX fixes MCE to 1; ";
  if (!bad.empty()) bad.resize(bad.size() - 2);
  return bad;
}

// Table order is the order a MOV's rules are tried (the first broken one is the #GP the
// stub checks report) and the order findings are listed.
const CrRule kRules[] = {
    {kRuleCr0Reserved, 0, "boot_params.cr0", CrConsequence::kGp,
     [](const CrRegs& b, const CrRegs& a) { return b.long_mode && (a.cr0 >> 32) != 0; },
     [](const CrRegs&, const CrRegs& a) { return fmt::format("CR0 {:#x} sets reserved bits 63:32", a.cr0); }},
    {kRuleCr0PgWithoutPe, 0, "boot_params.cr0", CrConsequence::kGp,
     [](const CrRegs&, const CrRegs& a) { return (a.cr0 & kCr0Pg) && !(a.cr0 & kCr0Pe); },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR0 {:#x} sets PG without PE: paging needs protected mode", a.cr0);
     }},
    {kRuleCr0NwWithoutCd, 0, "boot_params.cr0", CrConsequence::kGp,
     [](const CrRegs&, const CrRegs& a) { return (a.cr0 & kCr0Nw) && !(a.cr0 & kCr0Cd); },
     [](const CrRegs&, const CrRegs& a) { return fmt::format("CR0 {:#x} sets NW without CD", a.cr0); }},
    // The SDM's "activating IA-32e mode with CR4.PAE clear". Judged on the resulting
    // state: PG with LME and no PAE is a state the CPU never enters, so wherever it is
    // seen this MOV is what should have faulted.
    {kRuleCr4PaeMissing, 0, "boot_params.cr4", CrConsequence::kGp,
     [](const CrRegs&, const CrRegs& a) {
       return (a.cr0 & kCr0Pg) && (a.efer & kEferLme) && !(a.cr4 & kCr4Pae);
     },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR4 {:#x} lacks PAE (0x20): paging with EFER.LME needs it; MOV to CR0 "
                          "{:#x} with PG=1 raises #GP(0)",
                          a.cr4, a.cr0);
     }},
    {kRuleCr0PgClearIn64Bit, 0, "boot_params.cr0", CrConsequence::kGp,
     [](const CrRegs& b, const CrRegs& a) { return ia32e(b) && b.long_mode && !(a.cr0 & kCr0Pg); },
     [](const CrRegs&, const CrRegs& a) { return fmt::format("CR0 {:#x} clears PG in 64-bit mode", a.cr0); }},
    {kRuleCr0FixedBits, 0, "boot_params.cr0", CrConsequence::kTdxFixedGp,
     [](const CrRegs&, const CrRegs& a) { return !(a.cr0 & kCr0Pe) || !(a.cr0 & kCr0Ne); },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR0 {:#x} clears{}{}: TDX fixes PE and NE to 1", a.cr0,
                          (a.cr0 & kCr0Pe) ? "" : " PE", (a.cr0 & kCr0Ne) ? "" : " NE");
     }},
    {kRuleCr4PaeClearedInIa32e, 4, "boot_params.cr4", CrConsequence::kGp,
     [](const CrRegs& b, const CrRegs& a) { return ia32e(b) && !(a.cr4 & kCr4Pae); },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR4 {:#x} clears PAE while IA-32e mode is active (EFER.LMA=1)", a.cr4);
     }},
    {kRuleCr4La57ChangedInIa32e, 4, "boot_params.cr4", CrConsequence::kGp,
     [](const CrRegs& b, const CrRegs& a) { return ia32e(b) && ((a.cr4 ^ b.cr4) & kCr4La57); },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR4 {:#x} changes LA57 while IA-32e mode is active", a.cr4);
     }},
    {kRuleCr4FixedBits, 4, "boot_params.cr4", CrConsequence::kTdxFixedGp,
     [](const CrRegs&, const CrRegs& a) { return !cr4_fixed_breaks(a.cr4).empty(); },
     [](const CrRegs&, const CrRegs& a) { return fmt::format("{} (CR4 {:#x})", cr4_fixed_breaks(a.cr4), a.cr4); }},
    {kRuleCr3Reserved, 3, "boot_params.cr3", CrConsequence::kGp,
     [](const CrRegs& b, const CrRegs& a) {
       return b.long_mode && b.maxphyaddr < 64 && ((a.cr3 & ~kCr3NoFlush) >> b.maxphyaddr) != 0;
     },
     [](const CrRegs& b, const CrRegs& a) {
       return fmt::format("CR3 {:#x} sets bits above MAXPHYADDR {}", a.cr3, b.maxphyaddr);
     }},
    // Legal (32-bit PAE paging), but a TD cannot get out of it: it cannot write EFER.
    {kRuleEferLmeClear, -1, "efer", CrConsequence::kBootContract,
     [](const CrRegs&, const CrRegs& a) {
       return (a.cr0 & kCr0Pg) && (a.cr4 & kCr4Pae) && !(a.efer & kEferLme);
     },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("EFER {:#x} has LME clear, so paging came up as 32-bit PAE, not "
                          "IA-32e: a TD starts with EFER 0x901 and cannot write EFER",
                          a.efer);
     }},
    {kRuleCr0PgMissing, -1, "boot_params.cr0", CrConsequence::kBootContract,
     [](const CrRegs&, const CrRegs& a) { return !(a.cr0 & kCr0Pg); },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR0 {:#x} lacks PG: the stub cannot reach 64-bit mode", a.cr0);
     }},
    {kRuleCr4La57Set, -1, "boot_params.cr4", CrConsequence::kBootContract,
     [](const CrRegs&, const CrRegs& a) { return (a.cr4 & kCr4La57) != 0 && a.paging_levels == 4; },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR4 {:#x} sets LA57 (0x1000), but tdsim's layout built "
                          "4-level page tables (--paging-levels 5 builds 5-level ones)",
                          a.cr4);
     }},
    {kRuleCr4La57Missing, -1, "boot_params.cr4", CrConsequence::kBootContract,
     [](const CrRegs&, const CrRegs& a) { return (a.cr4 & kCr4La57) == 0 && a.paging_levels == 5; },
     [](const CrRegs&, const CrRegs& a) {
       return fmt::format("CR4 {:#x} lacks LA57 (0x1000), but tdsim's layout built 5-level page "
                          "tables: the CPU would walk the PML5 as a PML4",
                          a.cr4);
     }},
};

CrBreak broken_by(const CrRule& r, const CrRegs& before, const CrRegs& after) {
  return {&r, r.message(before, after)};
}

}  // namespace

std::span<const CrRule> cr_rules() { return kRules; }

const CrRule& cr_rule(std::string_view id) {
  for (const CrRule& r : kRules)
    if (r.id == id) return r;
  throw std::out_of_range(fmt::format("no control-register rule '{}'", id));
}

CrRegs after_mov_to_cr(int cr, uint64_t value, const CrRegs& before) {
  if (!before.long_mode) value &= 0xffffffffull;
  CrRegs after = before;
  switch (cr) {
    case 0: after.cr0 = value; break;
    case 3: after.cr3 = value; break;
    case 4: after.cr4 = value; break;
    default: break;
  }
  return after;
}

std::optional<CrBreak> check_mov_to_cr(int cr, uint64_t value, const CrRegs& before) {
  const CrRegs after = after_mov_to_cr(cr, value, before);
  for (const CrRule& r : kRules)
    if (r.mov_cr == cr && r.broken(before, after)) return broken_by(r, before, after);
  return std::nullopt;
}

std::vector<CrBreak> check_boot_registers(uint64_t cr0, uint64_t cr4, uint32_t paging_levels) {
  // The stub loads CR4, then CR3, then CR0 (docs/tdx-abi.md), from the TD initial state.
  const CrRegs reset{kTdInitCr0, 0, kTdInitCr4, kTdInitEfer, false, 52, paging_levels};
  const CrRegs with_cr4 = after_mov_to_cr(4, cr4, reset);
  const CrRegs with_cr0 = after_mov_to_cr(0, cr0, with_cr4);
  std::vector<CrBreak> out;
  for (const CrRule& r : kRules) {
    const auto [before, after] = r.mov_cr == 4   ? std::pair{reset, with_cr4}
                                 : r.mov_cr == 0 ? std::pair{with_cr4, with_cr0}
                                 : r.mov_cr == 3 ? std::pair{with_cr0, with_cr0}
                                                 : std::pair{reset, with_cr0};
    if (r.mov_cr != 3 && r.broken(before, after)) out.push_back(broken_by(r, before, after));
  }
  return out;
}

}  // namespace tdsim
