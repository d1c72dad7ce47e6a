// HLT on Unicorn: the engine returns from uc_emu_start after it (docs/engine-quirks.md),
// where the TDX module turns every HLT of a TD into a #VE (tdx::hlt_instruction_ve). A
// guest whose IDT has a #VE gate takes it; without one the TD shuts down
// (tdx::hlt_without_ve_gate; docs/tdx-module-standin.md, "#VE").
#include "diag/guest_view.h"
#include "fault_capture.h"
#include "tdsim/abi/tdx.h"
#include "uc_error.h"
#include "vcpu.h"

namespace tdsim::sim {

void Vcpu::hlt_ve(uint64_t hlt_rip) {
  const diag::CpuState s = capture_cpu_state(uc_, image_, mem_);
  const diag::LinearView view{(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0, s.cr4};
  if (!diag::idt_gate_present(mem_, image_, view, s.idtr.base, s.idtr.limit, abi::kVeVector)) {
    stop_with(tdx::hlt_without_ve_gate(index_, hlt_rip));
    return;
  }
  uint64_t rax = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_RAX, &rax), "uc_reg_read(RAX) before a HLT #VE");
  ve_pending_ = PendingVe{tdx::hlt_instruction_ve(), hlt_rip, rax, "HLT", "the TDX module makes every HLT a #VE"};
}

}  // namespace tdsim::sim
