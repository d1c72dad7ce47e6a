// gdb's `i386:x86-64` register file without a target description (amd64 numbers 0..56)
// on a Unicorn engine. No target.xml: gdb 13 takes this 'g' layout under any osabi and
// asks for osabi extras (orig_rax, fs_base) with 'p', which we decline. The 32-bit boot
// phase reports the same file (EIP in RIP): the engine is MODE_64 from reset on
// (reset_state.h), so all registers read back in both phases. Knows Unicorn only.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tdsim::gdbstub {

struct GdbRegister {
  const char* name;  // gdb's name
  int uc_id;         // UC_X86_REG_*
  uint8_t size;      // bytes in the 'g' packet
  bool writable;     // selectors are not: a MODE_64 engine would only change the selector
};

// Index = gdb register number.
std::span<const GdbRegister> amd64_registers();
inline constexpr unsigned kRegRip = 16;
inline constexpr unsigned kRegEflags = 17;
// Byte offset of register `regnum` in the 'g' packet, and the packet's total size.
size_t g_offset(unsigned regnum);
size_t g_packet_bytes();

// Raw little-endian register bytes in 'g' order.
std::vector<uint8_t> read_all_registers(uc_engine* uc);
// One register's bytes; nullopt for a number past the file.
std::optional<std::vector<uint8_t>> read_register(uc_engine* uc, unsigned regnum);
// False (nothing written for that register) for an unknown number, a read-only
// register whose value would change, a wrong size, or an engine error.
bool write_register(uc_engine* uc, unsigned regnum, std::span<const uint8_t> bytes);
// A whole 'G' payload (decoded); false on a size mismatch or a failed register write.
bool write_all_registers(uc_engine* uc, std::span<const uint8_t> bytes);

}  // namespace tdsim::gdbstub
