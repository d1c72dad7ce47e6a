#include "monitor.h"

#include <fmt/format.h>

namespace tdsim::gdbstub {

namespace {

constexpr uint32_t kMsrEfer = 0xc0000080;

uint64_t reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

std::string control_registers(uc_engine* uc, uint32_t vcpu) {
  uc_x86_msr efer{kMsrEfer, 0};
  uc_reg_read(uc, UC_X86_REG_MSR, &efer);
  const uint64_t cr0 = reg(uc, UC_X86_REG_CR0);
  uc_x86_mmr gdtr{}, idtr{};
  uc_reg_read(uc, UC_X86_REG_GDTR, &gdtr);
  uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
  // EFER.LMA with CR0.PG is long mode; the stub's 32-bit part runs with PE only.
  const char* mode = (efer.value & (1u << 10)) && (cr0 & (1u << 31)) ? "64-bit (long mode)"
                     : (cr0 & 1)                                      ? "32-bit protected mode"
                                                                      : "real mode";
  return fmt::format(
      "vCPU {}: {}\ncr0 {:#x}\ncr2 {:#x}\ncr3 {:#x}\ncr4 {:#x}\nefer {:#x}\n"
      "gdtr base {:#x} limit {:#x}\nidtr base {:#x} limit {:#x}\n",
      vcpu, mode, cr0, reg(uc, UC_X86_REG_CR2), reg(uc, UC_X86_REG_CR3), reg(uc, UC_X86_REG_CR4),
      efer.value, gdtr.base, gdtr.limit, idtr.base, idtr.limit);
}

}  // namespace

std::string monitor_command(std::string_view command, uc_engine* uc, uint32_t vcpu) {
  if (command == "cr" || command == "sregs") return control_registers(uc, vcpu);
  return fmt::format("unknown monitor command '{}'; known: cr (control registers, EFER, "
                     "GDTR/IDTR and the CPU mode of the selected vCPU)\n",
                     command);
}

}  // namespace tdsim::gdbstub
