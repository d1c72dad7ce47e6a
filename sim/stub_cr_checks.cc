#include "stub_cr_checks.h"

#include "core/cr_rules.h"

namespace tdsim::sim {

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
  const CrRegs before{s.cr0, 0, s.cr4, s.efer, s.long_mode, s.maxphyaddr};
  std::optional<CrBreak> b = check_mov_to_cr(cr, value, before);
  if (!b) return std::nullopt;
  return CrViolation{std::string(b->rule->id), std::string(b->rule->field), std::move(b->message),
                     b->rule->consequence == CrConsequence::kTdxFixedGp};
}

}  // namespace tdsim::sim
