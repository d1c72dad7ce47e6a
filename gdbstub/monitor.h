// gdb `monitor` commands (qRcmd): what the amd64 'g' register file cannot show, above all
// the control registers and EFER that tell the 32-bit boot phase from the 64-bit one.
// Knows a Unicorn engine only.
#pragma once
#include <unicorn/unicorn.h>

#include <string>
#include <string_view>

namespace tdsim::gdbstub {

// The text gdb prints for `monitor <command>`, newline-terminated. Unknown commands get
// the list of known ones.
std::string monitor_command(std::string_view command, uc_engine* uc, uint32_t vcpu);

}  // namespace tdsim::gdbstub
