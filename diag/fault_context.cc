#include "diag/fault_context.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

#include "tdsim/abi/tdx.h"

namespace tdsim::diag {
namespace {

// Capstone's Intel-syntax names for the GPR operand of MOV CRn, reg.
int gpr_index(std::string_view name) {
  static constexpr std::array<std::string_view, 16> r64 = {
      "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
      "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  static constexpr std::array<std::string_view, 8> r32 = {"eax", "ecx", "edx", "ebx",
                                                          "esp", "ebp", "esi", "edi"};
  for (size_t i = 0; i < r64.size(); ++i)
    if (name == r64[i]) return int(i);
  for (size_t i = 0; i < r32.size(); ++i)
    if (name == r32[i]) return int(i);
  return -1;
}

std::optional<Insn> insn_at(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                            uint64_t rip, CpuMode mode) {
  uint8_t buf[15];
  size_t n = 0;
  while (n < sizeof buf && read_linear(mem, image, view, rip + n, buf + n, 1)) ++n;
  if (n == 0) return std::nullopt;
  return disassemble_one(std::span<const uint8_t>(buf, n), rip, mode);
}

}  // namespace

std::string FaultContext::where(uint64_t addr) const {
  std::string s;
  if (const Symbol* sym = image.symbol_for(addr)) {
    s = addr == sym->addr ? fmt::format("<{}>", sym->name)
                          : fmt::format("<{}+{:#x}>", sym->name, addr - sym->addr);
  }
  if (const Region* r = image.region_at(addr & ~image.shared_bit))
    s += fmt::format("{}region '{}' ({})", s.empty() ? "" : ", ", r->name, to_string(r->kind));
  return s.empty() ? "outside every region" : s;
}

std::string FaultContext::vcpu_field(const char* member) const {
  return fmt::format("boot_params.per_vcpu[{}].{}", ev.vcpu, member);
}

FaultContext make_fault_context(const FaultEvent& ev, const CpuState& cpu, const TdImage& image,
                                const GuestMemory& mem) {
  FaultContext c{ev, cpu, image, mem};
  c.mode = effective_mode(cpu);
  c.view = LinearView{(cpu.cr0 & abi::kCr0Pg) != 0, cpu.cr3, cpu.cr0, cpu.cr4};
  if (!image.tdvf) {  // firmware has no boot-parameters block: 0xffff0000 is its code
    c.params = read_boot_params(mem);
    c.vcpu_params = read_per_vcpu(mem, ev.vcpu);
  }
  c.insn = insn_at(mem, image, c.view, cpu.rip,
                   c.mode == ExecMode::kLong64 ? CpuMode::k64 : CpuMode::k32);
  c.eff_cr0 = cpu.cr0, c.eff_cr3 = cpu.cr3, c.eff_cr4 = cpu.cr4;

  if (c.insn && c.insn->mnemonic == "mov" && c.insn->operands.rfind("cr", 0) == 0) {
    const std::string& ops = c.insn->operands;  // "cr0, edi"
    c.cr_target = ops[2] - '0';
    auto comma = ops.find(", ");
    int gpr = comma == std::string::npos ? -1 : gpr_index(std::string_view(ops).substr(comma + 2));
    if (cpu.gprs && gpr >= 0) {
      uint64_t v = (*cpu.gprs)[gpr];
      c.cr_load = c.mode == ExecMode::kLong64 ? v : uint32_t(v);
      c.cr_load_source = ops.substr(comma + 2);
    } else if (c.params) {
      switch (c.cr_target) {
        case 0: c.cr_load = c.params->cr0, c.cr_load_source = "boot_params.cr0"; break;
        case 3: c.cr_load = c.params->cr3, c.cr_load_source = "boot_params.cr3"; break;
        case 4: c.cr_load = c.params->cr4, c.cr_load_source = "boot_params.cr4"; break;
      }
    }
    if (c.cr_load) {
      if (c.cr_target == 0) c.eff_cr0 = *c.cr_load;
      if (c.cr_target == 3) c.eff_cr3 = *c.cr_load;
      if (c.cr_target == 4) c.eff_cr4 = *c.cr_load;
    }
  }
  return c;
}

}  // namespace tdsim::diag
