// The control-register rules a TD boot must obey, in one table: the MOV to CR0/CR3/CR4
// values the CPU refuses with #GP(0) (SDM), the CR0/CR4 bits TDX fixes, and the few
// values that are legal but keep tdsim's boot stub from reaching 64-bit mode with 4-level
// paging. Layout validation, the image linter, the fault explanations and the
// simulator's stub CR checks all judge registers here, so a value is accepted or refused
// with the same rule id and the same words everywhere (docs/debugging.md lists the ids).
// Pure functions of register values; no engine, no image.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tdsim {

// Rule ids: stable, shown to users in "[id]" and "cause [id]", documented in
// docs/debugging.md. Code names a rule by these constants, never by a literal.
inline constexpr std::string_view kRuleCr0Reserved = "cr0-reserved";
inline constexpr std::string_view kRuleCr0PgWithoutPe = "cr0-pg-without-pe";
inline constexpr std::string_view kRuleCr0NwWithoutCd = "cr0-nw-without-cd";
inline constexpr std::string_view kRuleCr4PaeMissing = "cr4-pae-missing";
inline constexpr std::string_view kRuleCr0PgClearIn64Bit = "cr0-pg-clear-in-64bit";
inline constexpr std::string_view kRuleCr0FixedBits = "cr0-fixed-bits";
inline constexpr std::string_view kRuleCr4PaeClearedInIa32e = "cr4-pae-cleared-in-ia32e";
inline constexpr std::string_view kRuleCr4La57ChangedInIa32e = "cr4-la57-changed-in-ia32e";
inline constexpr std::string_view kRuleCr4FixedBits = "cr4-fixed-bits";
inline constexpr std::string_view kRuleCr3Reserved = "cr3-reserved";
inline constexpr std::string_view kRuleEferLmeClear = "efer-lme-clear";
inline constexpr std::string_view kRuleCr0PgMissing = "cr0-pg-missing";
inline constexpr std::string_view kRuleCr4La57Set = "cr4-la57-set";
inline constexpr std::string_view kRuleCr4La57Missing = "cr4-la57-missing";

// The registers a rule reads. `long_mode` is CS.L with EFER.LMA (64-bit operands);
// `maxphyaddr` is a TD's GPAW.
struct CrRegs {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
  bool long_mode = false;
  uint32_t maxphyaddr = 52;
  uint32_t paging_levels = 4;  // of the tables the boot walks (the layout's: 4 or 5)
};

enum class CrConsequence {
  kGp,           // the MOV raises #GP(0) (SDM)
  kTdxFixedGp,   // a bit TDX fixes; tdsim raises #GP(0) (#GP rather than #VE is not
                 // verified on hardware, docs/tdx-abi.md)
  kBootContract, // legal, but tdsim's stub cannot reach 64-bit mode with 4-level paging
};

struct CrRule {
  std::string_view id;
  // The MOV to CRn the CPU refuses (0, 3 or 4), or -1 for a boot-contract rule, which
  // no instruction faults on and which judges the state the boot ends in.
  int mov_cr = -1;
  std::string_view field;  // the boot parameter (or register) to fix: "boot_params.cr4"
  CrConsequence consequence = CrConsequence::kGp;
  // `before` is the state at the MOV, `after` the state it would make (for a
  // boot-contract rule: the state the boot ends in).
  bool (*broken)(const CrRegs& before, const CrRegs& after) = nullptr;
  std::string (*message)(const CrRegs& before, const CrRegs& after) = nullptr;
};

// Every rule, in the order they are tried and reported.
std::span<const CrRule> cr_rules();
// The rule with `id`; a programming error (std::out_of_range) for an unknown id.
const CrRule& cr_rule(std::string_view id);

struct CrBreak {
  const CrRule* rule = nullptr;
  std::string message;
};

// `before` with CRn := value; a 32-bit MOV (outside 64-bit mode) loads the low half.
CrRegs after_mov_to_cr(int cr, uint64_t value, const CrRegs& before);
// The first rule a MOV to CRn of `value` breaks (the #GP the CPU raises), if any.
std::optional<CrBreak> check_mov_to_cr(int cr, uint64_t value, const CrRegs& before);
// Every rule the boot stub's MOVs of the boot parameters' CR4 then CR0 break, starting
// from the TD initial state, and every boot-contract rule the resulting state breaks;
// in table order. CR3 is the layout's page tables, not a register rule's business.
std::vector<CrBreak> check_boot_registers(uint64_t cr0, uint64_t cr4, uint32_t paging_levels = 4);

}  // namespace tdsim
