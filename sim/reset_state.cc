#include "reset_state.h"

#include "engine_limits.h"

#include <memory>

#include "tdsim/abi/tdx.h"
#include "uc_error.h"

namespace tdsim::sim {

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

void transplant_flat32_context(uc_engine* uc64) {
  uc_engine* raw = nullptr;
  uc_check(uc_open(UC_ARCH_X86, UC_MODE_32, &raw), "uc_open(UC_MODE_32) for the reset state");
  std::unique_ptr<uc_engine, EngineCloser> u32(raw);
  size_translation_buffer(raw);  // first, before Unicorn initialises: see engine_limits.h
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
  uc_check(uc_context_restore(uc64, ctx_raw), "uc_context_restore(reset state)");
}

}  // namespace

void load_td_reset_state(uc_engine* uc, const TdImage& image, uint32_t index) {
  transplant_flat32_context(uc);

  // In a MODE_64 engine a CS/DS/ES/SS write only stores the selector: the flat caches
  // stay, and the selectors read 0 as in the TD VMCS.
  for (int seg : {UC_X86_REG_CS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_SS, UC_X86_REG_FS, UC_X86_REG_GS})
    write_reg(uc, seg, 0, "uc_reg_write(segment selector 0)");

  uc_x86_mmr gdtr{0, 0, static_cast<uint32_t>(abi::kTdInitGdtrLimit), 0};
  uc_check(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "uc_reg_write(GDTR)");
  uc_x86_mmr idtr{0, 0, 0, 0};
  uc_check(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), "uc_reg_write(IDTR)");

  write_reg(uc, UC_X86_REG_CR0, abi::kTdInitCr0, "uc_reg_write(CR0)");
  write_reg(uc, UC_X86_REG_CR4, abi::kTdInitCr4, "uc_reg_write(CR4)");
  write_reg(uc, UC_X86_REG_CR3, 0, "uc_reg_write(CR3)");
  // EFER.LME is accepted here because a MODE_64 engine keeps CPUID.LM; LMA stays clear
  // until the guest turns paging on, exactly like a TD (EFER 0x901).
  uc_x86_msr efer{0xc0000080u, abi::kTdInitEfer};
  uc_check(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "uc_reg_write(MSR IA32_EFER)");

  const struct {
    int reg;
    uint64_t value;
  } gprs[] = {
      {UC_X86_REG_RAX, 0},
      {UC_X86_REG_RBX, image.gpaw},
      {UC_X86_REG_RCX, image.init_rcx},
      {UC_X86_REG_RDX, kUnicornCpuid1Eax},
      {UC_X86_REG_RSI, index},
      {UC_X86_REG_RDI, 0},
      {UC_X86_REG_RBP, 0},
      {UC_X86_REG_RSP, 0},
      {UC_X86_REG_R8, image.init_rcx},
      {UC_X86_REG_R9, 0},
      {UC_X86_REG_R10, 0},
      {UC_X86_REG_R11, 0},
      {UC_X86_REG_R12, 0},
      {UC_X86_REG_R13, 0},
      {UC_X86_REG_R14, 0},
      {UC_X86_REG_R15, 0},
      {UC_X86_REG_RFLAGS, abi::kTdInitRflags},
      {UC_X86_REG_RIP, abi::kTdInitRip},
  };
  for (const auto& g : gprs) write_reg(uc, g.reg, g.value, "uc_reg_write(initial GPR)");
}

}  // namespace tdsim::sim
