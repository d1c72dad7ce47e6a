#include "x86_regs.h"

#include <array>
#include <cstring>

namespace tdsim::gdbstub {

namespace {

constexpr GdbRegister kRegs[] = {
    {"rax", UC_X86_REG_RAX, 8, true},    {"rbx", UC_X86_REG_RBX, 8, true},
    {"rcx", UC_X86_REG_RCX, 8, true},    {"rdx", UC_X86_REG_RDX, 8, true},
    {"rsi", UC_X86_REG_RSI, 8, true},    {"rdi", UC_X86_REG_RDI, 8, true},
    {"rbp", UC_X86_REG_RBP, 8, true},    {"rsp", UC_X86_REG_RSP, 8, true},
    {"r8", UC_X86_REG_R8, 8, true},      {"r9", UC_X86_REG_R9, 8, true},
    {"r10", UC_X86_REG_R10, 8, true},    {"r11", UC_X86_REG_R11, 8, true},
    {"r12", UC_X86_REG_R12, 8, true},    {"r13", UC_X86_REG_R13, 8, true},
    {"r14", UC_X86_REG_R14, 8, true},    {"r15", UC_X86_REG_R15, 8, true},
    {"rip", UC_X86_REG_RIP, 8, true},    {"eflags", UC_X86_REG_EFLAGS, 4, true},
    {"cs", UC_X86_REG_CS, 4, false},     {"ss", UC_X86_REG_SS, 4, false},
    {"ds", UC_X86_REG_DS, 4, false},     {"es", UC_X86_REG_ES, 4, false},
    {"fs", UC_X86_REG_FS, 4, false},     {"gs", UC_X86_REG_GS, 4, false},
    {"st0", UC_X86_REG_ST0, 10, true},   {"st1", UC_X86_REG_ST1, 10, true},
    {"st2", UC_X86_REG_ST2, 10, true},   {"st3", UC_X86_REG_ST3, 10, true},
    {"st4", UC_X86_REG_ST4, 10, true},   {"st5", UC_X86_REG_ST5, 10, true},
    {"st6", UC_X86_REG_ST6, 10, true},   {"st7", UC_X86_REG_ST7, 10, true},
    {"fctrl", UC_X86_REG_FPCW, 4, true}, {"fstat", UC_X86_REG_FPSW, 4, true},
    {"ftag", UC_X86_REG_FPTAG, 4, true}, {"fiseg", UC_X86_REG_FCS, 4, false},
    {"fioff", UC_X86_REG_FIP, 4, false}, {"foseg", UC_X86_REG_FDS, 4, false},
    {"fooff", UC_X86_REG_FDP, 4, false}, {"fop", UC_X86_REG_FOP, 4, false},
    {"xmm0", UC_X86_REG_XMM0, 16, true}, {"xmm1", UC_X86_REG_XMM1, 16, true},
    {"xmm2", UC_X86_REG_XMM2, 16, true}, {"xmm3", UC_X86_REG_XMM3, 16, true},
    {"xmm4", UC_X86_REG_XMM4, 16, true}, {"xmm5", UC_X86_REG_XMM5, 16, true},
    {"xmm6", UC_X86_REG_XMM6, 16, true}, {"xmm7", UC_X86_REG_XMM7, 16, true},
    {"xmm8", UC_X86_REG_XMM8, 16, true}, {"xmm9", UC_X86_REG_XMM9, 16, true},
    {"xmm10", UC_X86_REG_XMM10, 16, true}, {"xmm11", UC_X86_REG_XMM11, 16, true},
    {"xmm12", UC_X86_REG_XMM12, 16, true}, {"xmm13", UC_X86_REG_XMM13, 16, true},
    {"xmm14", UC_X86_REG_XMM14, 16, true}, {"xmm15", UC_X86_REG_XMM15, 16, true},
    {"mxcsr", UC_X86_REG_MXCSR, 4, true},
};
static_assert(std::size(kRegs) == 57, "gdb's amd64 core + sse register numbers are 0..56");

// Unicorn writes at most 16 bytes for any of these ids (xmm); narrower ones (selectors,
// x87 control words) write 2 or 4, so a zeroed buffer zero-extends them.
using RegBuf = std::array<uint8_t, 16>;

bool read_raw(uc_engine* uc, const GdbRegister& r, RegBuf& buf) {
  buf.fill(0);
  return uc_reg_read(uc, r.uc_id, buf.data()) == UC_ERR_OK;
}

}  // namespace

std::span<const GdbRegister> amd64_registers() { return kRegs; }

size_t g_offset(unsigned regnum) {
  size_t off = 0;
  for (unsigned i = 0; i < regnum && i < std::size(kRegs); ++i) off += kRegs[i].size;
  return off;
}

size_t g_packet_bytes() { return g_offset(std::size(kRegs)); }

std::optional<std::vector<uint8_t>> read_register(uc_engine* uc, unsigned regnum) {
  if (regnum >= std::size(kRegs)) return std::nullopt;
  RegBuf buf;
  // A register Unicorn cannot read shows as 0 rather than failing the whole 'g'.
  if (!read_raw(uc, kRegs[regnum], buf)) buf.fill(0);
  return std::vector<uint8_t>(buf.begin(), buf.begin() + kRegs[regnum].size);
}

std::vector<uint8_t> read_all_registers(uc_engine* uc) {
  std::vector<uint8_t> out;
  out.reserve(g_packet_bytes());
  for (unsigned i = 0; i < std::size(kRegs); ++i) {
    const auto one = read_register(uc, i);
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

bool write_register(uc_engine* uc, unsigned regnum, std::span<const uint8_t> bytes) {
  if (regnum >= std::size(kRegs)) return false;
  const GdbRegister& r = kRegs[regnum];
  if (bytes.size() != r.size) return false;
  RegBuf cur;
  if (!read_raw(uc, r, cur)) return false;
  if (!r.writable) return std::memcmp(cur.data(), bytes.data(), r.size) == 0;
  // Keep bytes past the gdb width (e.g. the upper half of a 4-byte eflags) as they are.
  std::memcpy(cur.data(), bytes.data(), r.size);
  return uc_reg_write(uc, r.uc_id, cur.data()) == UC_ERR_OK;
}

bool write_all_registers(uc_engine* uc, std::span<const uint8_t> bytes) {
  if (bytes.size() != g_packet_bytes()) return false;
  size_t off = 0;
  for (unsigned i = 0; i < std::size(kRegs); ++i) {
    if (!write_register(uc, i, bytes.subspan(off, kRegs[i].size))) return false;
    off += kRegs[i].size;
  }
  return true;
}

}  // namespace tdsim::gdbstub
