#include "x86_regs.h"

#include <array>
#include <cstring>
#include <string_view>

#include "tdsim/abi/tdx.h"

namespace tdsim::gdbstub {

namespace {

constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSse = "org.gnu.gdb.i386.sse";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr const char* kControl = "org.tdsim.x86.control";

unsigned idx(std::string_view name) { return *find_register(name); }

GdbRegister entry(const char* gdb_name, const char* facet_name, uint8_t size, const char* feature,
                  const char* type, const char* group = nullptr) {
  return {gdb_name, idx(facet_name), size, feature, type, group};
}

// The x87, control and (partly) sse parts are the same in both layouts.
void add_x87(std::vector<GdbRegister>& v) {
  for (const char* st : {"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"})
    v.push_back(entry(st, st, 10, kCore, "i387_ext"));
  for (const char* f : {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"})
    v.push_back(entry(f, f, 4, kCore, "int", "float"));
}
void add_control(std::vector<GdbRegister>& v) {
  for (const char* c : {"cr0", "cr2", "cr3", "cr4", "efer"}) v.push_back(entry(c, c, 8, kControl, "int64"));
}

std::vector<GdbRegister> amd64() {
  std::vector<GdbRegister> v;
  for (const char* r : {"rax", "rbx", "rcx", "rdx", "rsi", "rdi"}) v.push_back(entry(r, r, 8, kCore, "int64"));
  v.push_back(entry("rbp", "rbp", 8, kCore, "data_ptr"));
  v.push_back(entry("rsp", "rsp", 8, kCore, "data_ptr"));
  for (const char* r : {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}) v.push_back(entry(r, r, 8, kCore, "int64"));
  v.push_back(entry("rip", "rip", 8, kCore, "code_ptr"));
  v.push_back(entry("eflags", "eflags", 4, kCore, "i386_eflags"));
  for (const char* s : {"cs", "ss", "ds", "es", "fs", "gs"}) v.push_back(entry(s, s, 4, kCore, "int32"));
  add_x87(v);
  for (const char* x : {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"})
    v.push_back(entry(x, x, 16, kSse, "vec128"));
  v.push_back(entry("mxcsr", "mxcsr", 4, kSse, "i386_mxcsr", "vector"));
  v.push_back(entry("fs_base", "fs_base", 8, kSegments, "int"));
  v.push_back(entry("gs_base", "gs_base", 8, kSegments, "int"));
  add_control(v);
  return v;
}

std::vector<GdbRegister> i386() {
  std::vector<GdbRegister> v;
  // gdb's i386 numbering: eax ecx edx ebx esp ebp esi edi.
  v.push_back(entry("eax", "rax", 4, kCore, "int32"));
  v.push_back(entry("ecx", "rcx", 4, kCore, "int32"));
  v.push_back(entry("edx", "rdx", 4, kCore, "int32"));
  v.push_back(entry("ebx", "rbx", 4, kCore, "int32"));
  v.push_back(entry("esp", "rsp", 4, kCore, "data_ptr"));
  v.push_back(entry("ebp", "rbp", 4, kCore, "data_ptr"));
  v.push_back(entry("esi", "rsi", 4, kCore, "int32"));
  v.push_back(entry("edi", "rdi", 4, kCore, "int32"));
  v.push_back(entry("eip", "rip", 4, kCore, "code_ptr"));
  v.push_back(entry("eflags", "eflags", 4, kCore, "i386_eflags"));
  for (const char* s : {"cs", "ss", "ds", "es", "fs", "gs"}) v.push_back(entry(s, s, 4, kCore, "int32"));
  add_x87(v);
  for (const char* x : {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7"})
    v.push_back(entry(x, x, 16, kSse, "vec128"));
  v.push_back(entry("mxcsr", "mxcsr", 4, kSse, "i386_mxcsr", "vector"));
  // No .segments feature: gdb 13's i386 architecture (unlike amd64) makes no room for
  // fs_base/gs_base outside GNU/Linux and fails an internal assertion on them.
  add_control(v);
  return v;
}

// Reads the whole facet register (up to 16 bytes) behind `g`.
bool read_full(DebugTarget& t, uint32_t vcpu, const GdbRegister& g, std::array<uint8_t, 16>& buf) {
  buf.fill(0);
  return t.read_register(vcpu, g.reg, std::span(buf.data(), x86_register_file()[g.reg].size));
}

}  // namespace

std::span<const GdbRegister> gdb_registers(Layout l) {
  static const std::vector<GdbRegister> a = amd64(), i = i386();
  static const std::vector<GdbRegister> builtin(a.begin(), a.begin() + 57);
  switch (l) {
    case Layout::kI386: return i;
    case Layout::kAmd64: return a;
    case Layout::kAmd64Builtin: return builtin;
  }
  return a;
}

unsigned pc_regnum(Layout l) { return l == Layout::kI386 ? 8 : 16; }

size_t g_offset(Layout l, unsigned regnum) {
  size_t off = 0;
  const auto regs = gdb_registers(l);
  for (unsigned i = 0; i < regnum && i < regs.size(); ++i) off += regs[i].size;
  return off;
}

size_t g_packet_bytes(Layout l) { return g_offset(l, static_cast<unsigned>(gdb_registers(l).size())); }

std::optional<std::vector<uint8_t>> read_register(DebugTarget& t, uint32_t vcpu, Layout l, unsigned regnum) {
  const auto regs = gdb_registers(l);
  if (regnum >= regs.size()) return std::nullopt;
  std::array<uint8_t, 16> buf;
  if (!read_full(t, vcpu, regs[regnum], buf)) buf.fill(0);
  return std::vector<uint8_t>(buf.begin(), buf.begin() + regs[regnum].size);
}

std::vector<uint8_t> read_all_registers(DebugTarget& t, uint32_t vcpu, Layout l) {
  std::vector<uint8_t> out;
  out.reserve(g_packet_bytes(l));
  for (unsigned i = 0; i < gdb_registers(l).size(); ++i) {
    const auto one = read_register(t, vcpu, l, i);
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

bool write_register(DebugTarget& t, uint32_t vcpu, Layout l, unsigned regnum, std::span<const uint8_t> bytes) {
  const auto regs = gdb_registers(l);
  if (regnum >= regs.size() || bytes.size() != regs[regnum].size) return false;
  const GdbRegister& g = regs[regnum];
  std::array<uint8_t, 16> buf;
  if (!read_full(t, vcpu, g, buf)) return false;
  std::memcpy(buf.data(), bytes.data(), bytes.size());
  return t.write_register(vcpu, g.reg, std::span<const uint8_t>(buf.data(), x86_register_file()[g.reg].size));
}

bool write_all_registers(DebugTarget& t, uint32_t vcpu, Layout l, std::span<const uint8_t> bytes) {
  if (bytes.size() != g_packet_bytes(l)) return false;
  size_t off = 0;
  const auto regs = gdb_registers(l);
  for (unsigned i = 0; i < regs.size(); ++i) {
    if (!write_register(t, vcpu, l, i, bytes.subspan(off, regs[i].size))) return false;
    off += regs[i].size;
  }
  return true;
}

namespace {

uint64_t value_of(DebugTarget& t, uint32_t vcpu, std::string_view name) {
  std::array<uint8_t, 16> b{};
  const unsigned r = idx(name);
  uint64_t v = 0;
  if (t.read_register(vcpu, r, std::span(b.data(), x86_register_file()[r].size))) std::memcpy(&v, b.data(), sizeof v);
  return v;
}

}  // namespace

CpuMode cpu_mode(DebugTarget& t, uint32_t vcpu) {
  constexpr uint64_t kCr0Pe = 1, kCr0Pg = 1ull << 31, kDescL = 1ull << 53;
  const uint64_t cr0 = value_of(t, vcpu, "cr0"), efer = value_of(t, vcpu, "efer");
  if (!(cr0 & kCr0Pe)) return CpuMode::kReal;
  if (!(efer & abi::kEferLma) || !(cr0 & kCr0Pg)) return CpuMode::kProtected32;
  const uint64_t sel = value_of(t, vcpu, "cs") & 0xfff8;
  uint64_t desc = 0;
  // The GDT base is a linear address; an entry that cannot be read is taken as 64-bit
  // (IA-32e mode outside the stub's switch is 64-bit code).
  if (sel + 7 > value_of(t, vcpu, "gdtr_limit") ||
      t.read_memory(vcpu, value_of(t, vcpu, "gdtr_base") + sel, &desc, sizeof desc) != sizeof desc)
    return CpuMode::kLong64;
  return desc & kDescL ? CpuMode::kLong64 : CpuMode::kCompatibility;
}

const char* to_string(CpuMode m) {
  switch (m) {
    case CpuMode::kReal: return "real mode";
    case CpuMode::kProtected32: return "32-bit protected mode";
    case CpuMode::kCompatibility: return "compatibility mode (IA-32e, 32-bit code segment)";
    case CpuMode::kLong64: return "64-bit (long mode)";
  }
  return "?";
}

Layout current_layout(DebugTarget& t, uint32_t vcpu) {
  return cpu_mode(t, vcpu) == CpuMode::kLong64 ? Layout::kAmd64 : Layout::kI386;
}

}  // namespace tdsim::gdbstub
