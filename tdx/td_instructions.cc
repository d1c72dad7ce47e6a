#include "td_instructions.h"

namespace tdsim::tdx {

namespace {

// VMX basic exit reasons (Intel SDM vol. 3D, appendix C).
enum : uint32_t {
  kGetsec = 11, kInvd = 13, kVmcall = 18, kVmclear = 19, kVmlaunch = 20, kVmptrld = 21, kVmptrst = 22,
  kVmread = 23, kVmresume = 24, kVmwrite = 25, kVmxoff = 26, kVmxon = 27, kMwait = 36, kMonitor = 39,
  kInvept = 50, kInvvpid = 53, kWbinvd = 54, kVmfunc = 59, kEncls = 60, kEnclv = 63, kSeamcall = 76,
};

// 0F 01 xx with a register-form ModRM byte: the one-byte-suffix group.
std::optional<TdInstruction> group_0f01(uint8_t modrm, uint32_t prefix_len, bool opsize) {
  const uint32_t n = prefix_len + 3;
  if (opsize) {
    // 66 0F 01 CF is SEAMCALL (CC..CE are TDCALL, SEAMRET, SEAMOPS: not VM exits here).
    if (modrm == 0xcf) return TdInstruction{"SEAMCALL", kSeamcall, n, true};
    return std::nullopt;
  }
  switch (modrm) {
    case 0xc0: return TdInstruction{"ENCLV", kEnclv, n, true};
    case 0xc1: return TdInstruction{"VMCALL", kVmcall, n, false};
    case 0xc2: return TdInstruction{"VMLAUNCH", kVmlaunch, n, true};
    case 0xc3: return TdInstruction{"VMRESUME", kVmresume, n, true};
    case 0xc4: return TdInstruction{"VMXOFF", kVmxoff, n, true};
    case 0xc8: return TdInstruction{"MONITOR", kMonitor, n, true};
    case 0xc9: return TdInstruction{"MWAIT", kMwait, n, true};
    case 0xcf: return TdInstruction{"ENCLS", kEncls, n, true};
    case 0xd4: return TdInstruction{"VMFUNC", kVmfunc, n, true};
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<TdInstruction> td_instruction_at(std::span<const uint8_t> code) {
  // Legacy prefixes the forms below use (66, F3), then an optional REX, then 0F.
  size_t i = 0;
  bool opsize = false, rep = false;
  for (; i < code.size() && i < 4; ++i) {
    if (code[i] == 0x66) opsize = true;
    else if (code[i] == 0xf3) rep = true;
    else break;
  }
  if (i < code.size() && (code[i] & 0xf0) == 0x40) ++i;  // REX
  if (i + 1 >= code.size() || code[i] != 0x0f) return std::nullopt;
  const uint8_t op = code[i + 1];
  const uint32_t p = static_cast<uint32_t>(i);
  switch (op) {
    case 0x08: return TdInstruction{"INVD", kInvd, p + 2, false};
    case 0x09: return TdInstruction{rep ? "WBNOINVD" : "WBINVD", kWbinvd, p + 2, false};
    case 0x37: return TdInstruction{"GETSEC", kGetsec, p + 2, true};
    case 0x01:
      if (i + 2 < code.size() && code[i + 2] >= 0xc0) return group_0f01(code[i + 2], p, opsize);
      return std::nullopt;
    case 0x78: return opsize || rep ? std::nullopt : std::optional<TdInstruction>(TdInstruction{"VMREAD", kVmread, 0, true});
    case 0x79: return opsize || rep ? std::nullopt : std::optional<TdInstruction>(TdInstruction{"VMWRITE", kVmwrite, 0, true});
    case 0xc7: {
      // Group 9 with a memory operand: /6 VMPTRLD (none), VMCLEAR (66), VMXON (F3); /7 VMPTRST.
      if (i + 2 >= code.size() || (code[i + 2] >> 6) == 3) return std::nullopt;
      const uint8_t reg = (code[i + 2] >> 3) & 7;
      if (reg == 6) {
        if (rep) return TdInstruction{"VMXON", kVmxon, 0, true};
        return opsize ? TdInstruction{"VMCLEAR", kVmclear, 0, true} : TdInstruction{"VMPTRLD", kVmptrld, 0, true};
      }
      if (reg == 7 && !opsize && !rep) return TdInstruction{"VMPTRST", kVmptrst, 0, true};
      return std::nullopt;
    }
    case 0x38:
      if (opsize && i + 2 < code.size() && (code[i + 2] == 0x80 || code[i + 2] == 0x81))
        return code[i + 2] == 0x80 ? TdInstruction{"INVEPT", kInvept, 0, true} : TdInstruction{"INVVPID", kInvvpid, 0, true};
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace tdsim::tdx
