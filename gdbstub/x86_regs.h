// gdb's register files for a TD, over the debug target's x86 registers
// (core/debug_target.h): the amd64 one for long mode and the i386 one for the 32-bit
// boot phase, each in the order its target description (target_description.h) lists
// it, so gdb's register number N is entry N and the 'g' packet is every entry in order.
// An i386 entry is the low bytes of the facet's register (EAX of RAX). Knows no engine.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/debug_target.h"

namespace tdsim::gdbstub {

enum class Layout : uint8_t {
  kI386,   // the i386 description: the 32-bit boot phase
  kAmd64,  // the i386:x86-64 description: long mode
  // gdb's built-in amd64 file (the description's first 57 registers): what gdb falls
  // back to when it rejected the i386 description because an x86-64 ELF was loaded.
  kAmd64Builtin,
};

struct GdbRegister {
  const char* name;  // gdb's name in this layout
  unsigned reg;      // x86_register_file() index
  uint8_t size;      // bytes in the 'g' packet (at most the facet register's size)
  const char* feature;
  const char* type;   // gdb type in the description
  const char* group;  // gdb register group, or nullptr
};

std::span<const GdbRegister> gdb_registers(Layout l);
// The register number of the program counter (rip / eip) in `l`.
unsigned pc_regnum(Layout l);
// Byte offset of register `regnum` in the 'g' packet, and the packet's total size.
size_t g_offset(Layout l, unsigned regnum);
size_t g_packet_bytes(Layout l);

// Raw little-endian register bytes in 'g' order; a register the target cannot read
// shows as zeros rather than failing the whole packet.
std::vector<uint8_t> read_all_registers(DebugTarget& t, uint32_t vcpu, Layout l);
// One register's bytes; nullopt for a number past the file.
std::optional<std::vector<uint8_t>> read_register(DebugTarget& t, uint32_t vcpu, Layout l, unsigned regnum);
// False (nothing written for that register) for an unknown number, a read-only
// register whose value would change, a wrong size, or a target error. A narrower
// i386 write keeps the facet register's upper bytes.
bool write_register(DebugTarget& t, uint32_t vcpu, Layout l, unsigned regnum, std::span<const uint8_t> bytes);
// A whole 'G' payload (decoded); false on a size mismatch or a failed register write.
bool write_all_registers(DebugTarget& t, uint32_t vcpu, Layout l, std::span<const uint8_t> bytes);

// What the vCPU executes as now: IA-32e mode (EFER.LMA) with CS.L set (read from the GDT
// entry CS selects) is 64-bit; IA-32e mode with CS.L clear is compatibility mode (the
// stub's few instructions between enabling paging and its far jump).
enum class CpuMode : uint8_t { kReal, kProtected32, kCompatibility, kLong64 };
CpuMode cpu_mode(DebugTarget& t, uint32_t vcpu);
const char* to_string(CpuMode m);
// The layout matching the code the vCPU executes now: amd64 in 64-bit mode, else i386.
Layout current_layout(DebugTarget& t, uint32_t vcpu);

}  // namespace tdsim::gdbstub
