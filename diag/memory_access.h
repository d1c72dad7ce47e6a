// The data memory one x86 instruction touches, from its bytes and the registers it would
// run with: explicit memory operands (with Capstone's read/write flags) and the stack
// slots of PUSH, POP, CALL and RET. For a debugger that steps instruction by instruction
// and has no data breakpoints it can trust (plain KVM's debug target): a watchpoint fires
// when an access of its kind overlaps it. LEA and NOP-style operands touch nothing.
// Depends on Capstone only; no engine, no image.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "disasm.h"

namespace tdsim::diag {

struct MemoryAccess {
  uint64_t la = 0;   // linear address (segment base included: FS/GS; flat otherwise)
  uint64_t len = 0;  // bytes
  bool read = false, write = false;
};

// Registers as the instruction would see them: gpr in encoding order (RAX, RCX, RDX, RBX,
// RSP, RBP, RSI, RDI, R8..R15).
struct AccessRegs {
  uint64_t gpr[16] = {};
  uint64_t rip = 0;
  uint64_t fs_base = 0, gs_base = 0;
};

// Empty when the bytes do not decode or the instruction touches no data memory; string
// and other implicit forms that are not listed above are not covered.
std::vector<MemoryAccess> memory_accesses(std::span<const uint8_t> bytes, CpuMode mode, const AccessRegs& regs);

}  // namespace tdsim::diag
