#include "memory_access.h"

#include <capstone/capstone.h>

#include <optional>
#include <stdexcept>

namespace tdsim::diag {

namespace {

// One Capstone handle per mode with operand details on, per thread.
class DetailHandles {
 public:
  DetailHandles() {
    for (int m = 0; m < 2; ++m) {
      if (cs_open(CS_ARCH_X86, m ? CS_MODE_64 : CS_MODE_32, &h_[m]) != CS_ERR_OK)
        throw std::runtime_error("cs_open(CS_ARCH_X86) for memory operands");
      cs_option(h_[m], CS_OPT_DETAIL, CS_OPT_ON);
    }
  }
  ~DetailHandles() {
    for (csh& h : h_) cs_close(&h);
  }
  csh get(CpuMode mode) const { return h_[mode == CpuMode::k64 ? 1 : 0]; }

 private:
  csh h_[2] = {};
};

// The value of a base or index register, truncated to its width; nullopt for one this
// does not model (segment or vector registers).
std::optional<uint64_t> reg_value(x86_reg r, const AccessRegs& regs, uint64_t next_rip) {
  struct Row {
    x86_reg r64, r32, r16;
  };
  static constexpr Row kRows[16] = {
      {X86_REG_RAX, X86_REG_EAX, X86_REG_AX},    {X86_REG_RCX, X86_REG_ECX, X86_REG_CX},
      {X86_REG_RDX, X86_REG_EDX, X86_REG_DX},    {X86_REG_RBX, X86_REG_EBX, X86_REG_BX},
      {X86_REG_RSP, X86_REG_ESP, X86_REG_SP},    {X86_REG_RBP, X86_REG_EBP, X86_REG_BP},
      {X86_REG_RSI, X86_REG_ESI, X86_REG_SI},    {X86_REG_RDI, X86_REG_EDI, X86_REG_DI},
      {X86_REG_R8, X86_REG_R8D, X86_REG_R8W},    {X86_REG_R9, X86_REG_R9D, X86_REG_R9W},
      {X86_REG_R10, X86_REG_R10D, X86_REG_R10W}, {X86_REG_R11, X86_REG_R11D, X86_REG_R11W},
      {X86_REG_R12, X86_REG_R12D, X86_REG_R12W}, {X86_REG_R13, X86_REG_R13D, X86_REG_R13W},
      {X86_REG_R14, X86_REG_R14D, X86_REG_R14W}, {X86_REG_R15, X86_REG_R15D, X86_REG_R15W}};
  if (r == X86_REG_INVALID) return 0;
  if (r == X86_REG_RIP) return next_rip;  // RIP-relative: from the next instruction
  if (r == X86_REG_EIP) return next_rip & 0xffffffffull;
  for (unsigned i = 0; i < 16; ++i) {
    if (r == kRows[i].r64) return regs.gpr[i];
    if (r == kRows[i].r32) return regs.gpr[i] & 0xffffffffull;
    if (r == kRows[i].r16) return regs.gpr[i] & 0xffffull;
  }
  return std::nullopt;
}

}  // namespace

std::vector<MemoryAccess> memory_accesses(std::span<const uint8_t> bytes, CpuMode mode, const AccessRegs& regs) {
  thread_local DetailHandles handles;
  const csh h = handles.get(mode);
  cs_insn* insn = nullptr;
  if (cs_disasm(h, bytes.data(), bytes.size(), regs.rip, 1, &insn) != 1) return {};
  std::vector<MemoryAccess> out;
  const cs_x86& x = insn->detail->x86;
  const uint64_t next = regs.rip + insn->size;
  const uint64_t width_mask = mode == CpuMode::k64 ? ~0ull : 0xffffffffull;
  const uint64_t word = mode == CpuMode::k64 ? 8 : 4;
  if (insn->id != X86_INS_LEA && insn->id != X86_INS_NOP) {
    for (uint8_t i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      if (op.type != X86_OP_MEM) continue;
      const auto base = reg_value(op.mem.base, regs, next);
      const auto index = reg_value(op.mem.index, regs, next);
      if (!base || !index) continue;
      uint64_t la = *base + *index * static_cast<uint64_t>(op.mem.scale) + static_cast<uint64_t>(op.mem.disp);
      if (op.mem.segment == X86_REG_FS) la += regs.fs_base;
      if (op.mem.segment == X86_REG_GS) la += regs.gs_base;
      out.push_back(MemoryAccess{la & width_mask, op.size, (op.access & CS_AC_READ) != 0,
                                 (op.access & CS_AC_WRITE) != 0});
    }
  }
  // The stack slot the instruction pushes to or pops from.
  const uint64_t rsp = regs.gpr[4];
  switch (insn->id) {
    case X86_INS_PUSH:
    case X86_INS_CALL:
      out.push_back(MemoryAccess{(rsp - word) & width_mask, word, false, true});
      break;
    case X86_INS_POP:
    case X86_INS_RET:
      out.push_back(MemoryAccess{rsp & width_mask, word, true, false});
      break;
    default:
      break;
  }
  cs_free(insn, 1);
  return out;
}

}  // namespace tdsim::diag
