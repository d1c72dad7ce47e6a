// gdb `monitor` commands (qRcmd): the TD's view that registers alone do not give — the
// CPU mode and control registers, the boot-parameters block the stub reads, a page walk
// of an address, the TDCALLs made so far. Over the debug-target facet; knows no engine.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/debug_target.h"
#include "x86_regs.h"

namespace tdsim::gdbstub {

// The text gdb prints for `monitor <text>`, newline-terminated. `vcpu` is the vCPU of
// the last stop (gdb does not say which thread is selected); commands that concern one
// vCPU take an optional vCPU number last. `described` is the register layout gdb holds
// (its last target description), which `cr` compares with the vCPU's mode. Unknown
// commands get the list of known ones.
std::string monitor_command(std::string_view text, DebugTarget& target, uint32_t vcpu, Layout described);

}  // namespace tdsim::gdbstub
