// The target descriptions gdb reads with qXfer:features:read:target.xml: i386:x86-64 in
// 64-bit mode, i386 in the 32-bit boot phase, each with the standard
// org.gnu.gdb.i386.core / .sse / .segments features (so gdb knows the registers without
// an ELF) and org.tdsim.x86.control (cr0, cr2, cr3, cr4 and EFER as the TD sees it).
// Written from gdb_registers(), so the 'g' packet and the description cannot disagree.
// gdb reads the description when it connects and again on `unset tdesc filename`
// (docs/gdb.md: how the 32-bit phase and the switch to long mode look in gdb).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "x86_regs.h"

namespace tdsim::gdbstub {

// kAmd64Builtin has no description of its own (gdb did not take one): the amd64 one.
const std::string& target_xml(Layout l);

// The reply to "qXfer:features:read:ANNEX:OFFSET,LENGTH" (the part after "read:"):
// "m"/"l" + the binary-escaped slice, "E00" for an unknown annex, "E01" for a bad
// offset/length.
std::string features_read(std::string_view args, Layout l);

}  // namespace tdsim::gdbstub
