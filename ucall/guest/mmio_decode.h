// Guest side: what the #VE handler needs to know of an instruction that touched MMIO
// (a shared GPA nothing backs), decoded from its bytes because the CPU reports no
// instruction length for an EPT violation. The forms a TD guest kernel emulates (Linux's
// handle_mmio): MOV r/m <-> reg of 8/16/32/64 bits, MOV imm to r/m, MOVZX and MOVSX from
// memory; string moves, REP and every other form are refused.
#pragma once
#include <stdint.h>

#ifdef __cplusplus  // C++ only: the runtime's own #VE handler uses it
namespace tdsim::guest {

struct MmioInsn {
  enum Kind : uint8_t { kInvalid, kWrite, kWriteImm, kRead, kReadZeroExtend, kReadSignExtend };
  Kind kind = kInvalid;
  uint8_t size = 0;      // bytes of memory accessed: 1, 2, 4 or 8
  uint8_t reg_size = 0;  // bytes of the register written by a read (MOVZX/MOVSX: the operand size)
  uint8_t length = 0;    // of the whole instruction
  uint8_t reg = 0;       // ModRM.reg with REX.R, in encoding order (RAX, RCX, ..., R15)
  bool high_byte = false;  // AH, CH, DH or BH (an 8-bit register 4..7 without REX)
  uint64_t imm = 0;        // kWriteImm: the value stored, extended to `size`
};

// Decodes the 64-bit-mode instruction in `bytes` (at most `avail` of them readable).
MmioInsn decode_mmio_insn(const uint8_t* bytes, uint32_t avail);

}  // namespace tdsim::guest
#endif
