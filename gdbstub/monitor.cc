#include "monitor.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "core/text_escape.h"
#include "diag/page_walk.h"
#include "diag/x86_decode.h"
#include "rsp_packet.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::gdbstub {

namespace {

constexpr uint64_t kCr4La57 = 1ull << 12;
constexpr uint64_t kCr0Wp = 1ull << 16, kCr0Pg = 1ull << 31;
constexpr uint64_t kEferNxe = 1ull << 11;
constexpr size_t kTdcallLines = 32;

constexpr const char* kHelp =
    "known monitor commands:\n"
    "  cr [VCPU]            CPU mode, control registers and EFER as the TD sees them\n"
    "  bootparams           the boot-parameters block the stub loads (CR0/3/4, GDTR, IDTR, per-vCPU stack and entry)\n"
    "  walk GVA [VCPU]      page walk of GVA through the vCPU's CR3, level by level\n"
    "  tdcalls [N]          the last N TDCALLs (default 32), oldest first\n";

uint64_t reg(DebugTarget& t, uint32_t vcpu, std::string_view name) {
  const auto i = find_register(name);
  std::array<uint8_t, 16> b{};
  uint64_t v = 0;
  if (i && t.read_register(vcpu, *i, std::span(b.data(), x86_register_file()[*i].size)))
    std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> w;
  for (size_t i = 0; i < s.size();) {
    const size_t j = std::min(s.find(' ', i), s.size());
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return w;
}

std::optional<uint64_t> number(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) return parse_hex_u64(s.substr(2));
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// What the vCPU executes as, and whether gdb's description still fits it: gdb reads
// one when it connects and again on `unset tdesc filename`, never by itself.
std::string mode_line(DebugTarget& t, uint32_t vcpu, Layout described) {
  const CpuMode m = cpu_mode(t, vcpu);
  const std::string head = fmt::format("vCPU {}: {}; ", vcpu, to_string(m));
  if (m != CpuMode::kLong64 && described != Layout::kI386)
    return head + "gdb decodes this code as 64-bit: with no ELF loaded, `unset tdesc filename` switches it to i386";
  if (m == CpuMode::kLong64 && described == Layout::kI386)
    return head + "gdb's description is still i386: `unset tdesc filename` makes gdb re-read it";
  if (described == Layout::kAmd64Builtin)
    return head + "gdb uses its built-in amd64 registers: `unset tdesc filename` adds the control registers";
  return head + (described == Layout::kAmd64 ? "gdb's description: i386:x86-64" : "gdb's description: i386");
}

std::string control_registers(DebugTarget& t, uint32_t vcpu, Layout described) {
  return fmt::format(
      "{}\ncr0 {}\ncr2 {:#x}\ncr3 {:#x}\ncr4 {}\nefer {}\ngdtr base {:#x} limit {:#x}\nidtr base {:#x} limit {:#x}\n",
      mode_line(t, vcpu, described), diag::decode_cr0(reg(t, vcpu, "cr0")), reg(t, vcpu, "cr2"),
      reg(t, vcpu, "cr3"), diag::decode_cr4(reg(t, vcpu, "cr4")), diag::decode_efer(reg(t, vcpu, "efer")),
      reg(t, vcpu, "gdtr_base"), reg(t, vcpu, "gdtr_limit"), reg(t, vcpu, "idtr_base"), reg(t, vcpu, "idtr_limit"));
}

std::string boot_params(DebugTarget& t) {
  const GuestMemory& mem = t.memory();
  abi::TdBootParams bp{};
  if (!mem.read(abi::kTdBootParamsGpa, &bp, sizeof bp))
    return fmt::format("no boot-parameters block: GPA {:#x} is not guest memory\n", abi::kTdBootParamsGpa);
  std::string s = fmt::format(
      "boot parameters at GPA {:#x}:\n  cr0 {}\n  cr3 {:#x}\n  cr4 {}\n  gdtr base {:#x} limit {:#x}\n"
      "  idtr base {:#x} limit {:#x}\n",
      abi::kTdBootParamsGpa, diag::decode_cr0(bp.cr0), uint32_t{bp.cr3}, diag::decode_cr4(bp.cr4),
      uint32_t{bp.gdtr.base}, uint16_t{bp.gdtr.limit}, uint32_t{bp.idtr.base}, uint16_t{bp.idtr.limit});
  for (uint32_t i = 0; i < t.nr_vcpus(); ++i) {
    abi::TdPerVcpuParams v{};
    const uint64_t at = abi::kTdBootParamsGpa + abi::kTdPerVcpuOffset + uint64_t{i} * sizeof v;
    if (!mem.read(at, &v, sizeof v)) {
      s += fmt::format("  vcpu {}: GPA {:#x} is not guest memory\n", i, at);
      continue;
    }
    s += fmt::format("  vcpu {}: esp {:#x} guest_code {:#x}\n", i, v.esp_gva, v.guest_code);
  }
  return s;
}

std::string walk(DebugTarget& t, uint32_t vcpu, uint64_t gva) {
  const uint64_t cr0 = reg(t, vcpu, "cr0");
  if (!(cr0 & kCr0Pg)) return fmt::format("vCPU {}: paging is off (CR0.PG=0): GVA {:#x} is the GPA\n", vcpu, gva);
  diag::WalkParams p;
  p.cr3 = reg(t, vcpu, "cr3");
  p.gva = gva;
  p.maxphyaddr = t.image().gpaw;
  // The tables in the backend's memory have the shared bit folded out (core/shared_bit_fold.h).
  p.shared_bit = 0;
  p.nxe = reg(t, vcpu, "efer") & kEferNxe;
  p.wp = cr0 & kCr0Wp;
  p.la57 = reg(t, vcpu, "cr4") & kCr4La57;
  const diag::WalkResult r = diag::page_walk(t.memory(), p);
  std::string s = fmt::format("vCPU {} CR3 {:#x}: {}\n", vcpu, p.cr3, diag::walk_summary(r, p));
  for (const std::string& l : diag::format_walk(r, p)) s += "  " + l + "\n";
  return s;
}

}  // namespace

std::string monitor_command(std::string_view text, DebugTarget& t, uint32_t vcpu, Layout described) {
  const std::vector<std::string_view> w = words(text);
  if (w.empty() || w[0] == "help") return kHelp;
  const std::string_view cmd = w[0];
  // The optional trailing vCPU number of cr / walk.
  const auto pick_vcpu = [&](size_t at, std::string* err) -> std::optional<uint32_t> {
    if (w.size() <= at) return vcpu;
    const auto n = number(w[at]);
    if (!n || *n >= t.nr_vcpus()) {
      *err = fmt::format("no vCPU '{}' (this TD has {})\n", escape_text(w[at]), t.nr_vcpus());
      return std::nullopt;
    }
    return static_cast<uint32_t>(*n);
  };
  std::string err;
  if ((cmd == "cr" || cmd == "sregs") && w.size() <= 2) {
    const auto v = pick_vcpu(1, &err);
    return v ? control_registers(t, *v, described) : err;
  }
  if (cmd == "bootparams" && w.size() == 1) return boot_params(t);
  if (cmd == "walk" && (w.size() == 2 || w.size() == 3)) {
    const auto gva = number(w[1]);
    if (!gva) return fmt::format("walk: '{}' is not an address (hex with 0x, or decimal)\n", escape_text(w[1]));
    const auto v = pick_vcpu(2, &err);
    return v ? walk(t, *v, *gva) : err;
  }
  if (cmd == "tdcalls" && w.size() <= 2) {
    const auto n = w.size() == 2 ? number(w[1]) : std::optional<uint64_t>(kTdcallLines);
    if (!n) return fmt::format("tdcalls: '{}' is not a count\n", escape_text(w[1]));
    const auto lines = t.tdcall_log(static_cast<size_t>(*n));
    if (lines.empty()) return "no TDCALL yet\n";
    std::string s;
    for (const std::string& l : lines) s += escape_text(l) + "\n";
    return s;
  }
  return fmt::format("unknown monitor command '{}'; {}", escape_text(text), kHelp);
}

}  // namespace tdsim::gdbstub
