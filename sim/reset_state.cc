#include "reset_state.h"


#include "core/td_initial_state.h"
#include "tdsim/abi/tdx.h"
#include "tdx/td_cpuid.h"
#include "scratch_engine.h"
#include "uc_error.h"

namespace tdsim::sim {

uint64_t td_cpuid1_eax() { return tdx::sapphire_rapids_native().answer(1, 0).eax; }

namespace {

void write_reg(uc_engine* uc, int reg, uint64_t value, const char* call) {
  uc_check(uc_reg_write(uc, reg, &value), call);
}

}  // namespace

void load_td_reset_state(uc_engine* uc, const TdImage& image, uint32_t index) {
  // The flat 32-bit segment caches, from the process's scratch engine.
  uc_check(uc_context_restore(uc, const_cast<uc_context*>(scratch_facts().flat32)), "uc_context_restore(reset state)");

  // In a MODE_64 engine a CS/DS/ES/SS write only stores the selector: the flat caches
  // stay, and the selectors read 0 as in the TD VMCS.
  for (int seg : {UC_X86_REG_CS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS, UC_X86_REG_GS})
    write_reg(uc, seg, TdInitialVcpuState{}.selector, "uc_reg_write(segment selector 0)");

  const TdInitialVcpuState st = td_initial_vcpu_state(image, index, td_cpuid1_eax());
  uc_x86_mmr gdtr{0, st.gdtr_base, static_cast<uint32_t>(st.gdtr_limit), 0};
  uc_check(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "uc_reg_write(GDTR)");
  uc_x86_mmr idtr{0, st.idtr_base, static_cast<uint32_t>(st.idtr_limit), 0};
  uc_check(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), "uc_reg_write(IDTR)");

  write_reg(uc, UC_X86_REG_CR0, st.cr0, "uc_reg_write(CR0)");
  write_reg(uc, UC_X86_REG_CR4, st.cr4, "uc_reg_write(CR4)");
  write_reg(uc, UC_X86_REG_CR3, st.cr3, "uc_reg_write(CR3)");
  // EFER.LME is accepted here because a MODE_64 engine keeps CPUID.LM; LMA stays clear
  // until the guest turns paging on, exactly like a TD (EFER 0x901).
  uc_x86_msr efer{0xc0000080u, st.efer};
  uc_check(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "uc_reg_write(MSR IA32_EFER)");

  const struct {
    int reg;
    uint64_t value;
  } gprs[] = {
      {UC_X86_REG_RAX, st.rax},       {UC_X86_REG_RBX, st.rbx}, {UC_X86_REG_RCX, st.rcx},
      {UC_X86_REG_RDX, st.rdx},       {UC_X86_REG_RSI, st.rsi}, {UC_X86_REG_RDI, st.rdi},
      {UC_X86_REG_RBP, st.rbp},       {UC_X86_REG_RSP, st.rsp}, {UC_X86_REG_R8, st.r8},
      {UC_X86_REG_R9, st.r9},         {UC_X86_REG_R10, st.r10}, {UC_X86_REG_R11, st.r11},
      {UC_X86_REG_R12, st.r12},       {UC_X86_REG_R13, st.r13}, {UC_X86_REG_R14, st.r14},
      {UC_X86_REG_R15, st.r15},       {UC_X86_REG_RFLAGS, st.rflags}, {UC_X86_REG_RIP, st.rip},
  };
  for (const auto& g : gprs) write_reg(uc, g.reg, g.value, "uc_reg_write(initial GPR)");
}

}  // namespace tdsim::sim
