// Architectural and TDX checks of MOV to CR0/CR3/CR4 that Unicorn 2.0.1 skips (it
// accepts CR0.PG with EFER.LME=1 and CR4.PAE=0, for one), so the simulator is never
// more lenient than hardware. Pure functions of the instruction bytes and the register
// values; the boot-stub monitor calls them before each stub instruction executes. The
// rules are core/cr_rules.h's table, shared with validation, lint and fault explanations.
// No engine, no image.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace tdsim::sim {

// MOV CRn, reg (0F 22 /r, optional REX in 64-bit mode).
struct MovToCr {
  int cr = 0;       // 0..15 (REX.R extends)
  int gpr = 0;      // source register, encoding order (RAX=0 ... R15=15)
  uint32_t length = 0;
};
std::optional<MovToCr> decode_mov_to_cr(std::span<const uint8_t> bytes, bool long_mode);

struct CrState {
  uint64_t cr0 = 0, cr4 = 0, efer = 0;
  bool long_mode = false;      // CS.L with EFER.LMA: 64-bit operands
  uint32_t maxphyaddr = 52;    // a TD's is its GPAW
};

// A MOV that must fault. Vector is always 13 (#GP(0)).
struct CrViolation {
  std::string rule;     // a core/cr_rules.h id: "cr4-pae-missing", ...
  std::string field;    // the boot parameter the value usually comes from
  std::string message;  // "CR4 lacks PAE (0x20): paging with EFER.LME needs it"
  bool tdx_only = false;  // a TDX fixed-bit rule (#GP vs #VE not verified on hardware)
};

// `value` is the full source register; 32-bit moves use its low half.
std::optional<CrViolation> check_cr_write(int cr, uint64_t value, const CrState& s);

}  // namespace tdsim::sim
