#include "reset_state.h"


#include <memory>

#include "core/td_initial_state.h"
#include "tdsim/abi/tdx.h"
#include "tdx/td_cpuid.h"
#include "engine.h"
#include "uc_error.h"

namespace tdsim::sim {

uint64_t td_cpuid1_eax() { return tdx::sapphire_rapids_native().answer(1, 0).eax; }

namespace {

// Scratch GDT for the throwaway engine: 0x08 flat 32-bit code (AR 0xC09B like the TD's
// CS), 0x10 flat data (AR 0xC093). It lives only in that engine's memory.
constexpr uint64_t kScratchGdt[3] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};
constexpr uint16_t kScratchCs = 0x08, kScratchDs = 0x10;

struct EngineCloser {
  void operator()(uc_engine* uc) const { uc_close(uc); }
};
struct ContextFreer {
  void operator()(uc_context* c) const { uc_context_free(c); }
};

void write_reg(uc_engine* uc, int reg, uint64_t value, const char* call) {
  uc_check(uc_reg_write(uc, reg, &value), call);
}

// The flat 32-bit CPU context, made on a throwaway UC_MODE_32 engine. The engine is
// closed before returning; the context is plain saved CPU state and stays valid after
// its engine is gone (uc_close tells its saved contexts so).
std::unique_ptr<uc_context, ContextFreer> make_flat32_context() {
  uc_engine* raw = open_engine(UC_MODE_32);
  std::unique_ptr<uc_engine, EngineCloser> u32(raw);
  uc_check(uc_mem_map(raw, 0, 0x1000, UC_PROT_ALL), "uc_mem_map(scratch GDT page)");
  uc_check(uc_mem_write(raw, 0, kScratchGdt, sizeof kScratchGdt), "uc_mem_write(scratch GDT)");
  uc_x86_mmr gdtr{0, 0, sizeof kScratchGdt - 1, 0};
  uc_check(uc_reg_write(raw, UC_X86_REG_GDTR, &gdtr), "uc_reg_write(GDTR, scratch)");
  // MODE_32 loads each segment's descriptor cache from the GDT on a selector write.
  write_reg(raw, UC_X86_REG_CS, kScratchCs, "uc_reg_write(CS, scratch)");
  for (int seg : {UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS, UC_X86_REG_GS})
    write_reg(raw, seg, kScratchDs, "uc_reg_write(data segment, scratch)");

  uc_context* ctx_raw = nullptr;
  uc_check(uc_context_alloc(raw, &ctx_raw), "uc_context_alloc(reset state)");
  std::unique_ptr<uc_context, ContextFreer> ctx(ctx_raw);
  uc_check(uc_context_save(raw, ctx_raw), "uc_context_save(reset state)");
  return ctx;
}

// Made once per process, not once per vCPU: a second engine opened and closed for every
// vCPU was about a third of a 64-vCPU run (docs/performance.md, "vCPU scaling").
// Restoring only reads the context, so engines on any thread may share it; a failed
// first attempt throws and the next call tries again.
void transplant_flat32_context(uc_engine* uc64) {
  static const std::unique_ptr<uc_context, ContextFreer> flat32 = make_flat32_context();
  uc_check(uc_context_restore(uc64, flat32.get()), "uc_context_restore(reset state)");
}

}  // namespace

void load_td_reset_state(uc_engine* uc, const TdImage& image, uint32_t index) {
  transplant_flat32_context(uc);

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
