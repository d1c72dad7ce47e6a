// Loading CS with a new descriptor, which Unicorn's 64-bit engine does only for a guest
// instruction (its API writes the selector and keeps the old code-segment cache:
// docs/engine-quirks.md). Exception delivery through a gate that names another code
// segment ends with one far JMP, run from a scratch page that exists only for that
// instruction, so the engine itself reads the GDT, checks the descriptor and switches
// the code size (32-bit stub code to a gate's 16- or 64-bit segment) as the CPU would.
// Only where linear = physical (paging off): the scratch page is a physical page no guest
// memory uses, mapped for one instruction.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <string>

namespace tdsim::sim {

struct FarTarget {
  uint16_t selector = 0;
  uint64_t offset = 0;
  bool from_code16 = false;  // the code running now is 16-bit (needs an operand-size prefix)
};

// Runs JMP FAR selector:offset on `uc` (the caller's hooks must let that one instruction
// through untouched). Returns an empty string on success (CS = selector, RIP = offset),
// else why not; guest registers other than CS and RIP are unchanged either way.
std::string far_jump(uc_engine* uc, const FarTarget& to);

}  // namespace tdsim::sim
