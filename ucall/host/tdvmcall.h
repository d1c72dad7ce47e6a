// TDG.VP.VMCALL<#VE.RequestMMIO> as the TDX module and KVM check it (GHCI; KVM
// tdx_emulate_mmio): one pure function both backends use, so a TDCALL trapped by
// Unicorn and one reported by KVM as an emulation failure get identical treatment.
#pragma once
#include <cstdint>
#include <string>

#include "core/event.h"

namespace tdsim::ucall {

// The registers a TDCALL reads or writes (TDX ABI names).
struct TdcallRegs {
  uint64_t rax = 0, rcx = 0, rdx = 0, rbx = 0, rsi = 0, rdi = 0, r8 = 0, r9 = 0;
  uint64_t r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
};

struct VmcallMmioDecision {
  enum class Kind {
    kExit,      // hand the host an MMIO exit (mmio below); guest resumes with R10 = 0
    kRejected,  // no exit; guest resumes with `rax` and `r10` as set (status in reason)
    kNotMmio,   // not TDG.VP.VMCALL<#VE.RequestMMIO>: someone else handles it
  } kind = Kind::kNotMmio;
  MmioEvent mmio;         // kExit: untagged GPA, size, direction, data (writes)
  uint64_t rax = 0;       // TDCALL completion status to return
  uint64_t r10 = 0;       // TDG.VP.VMCALL status to return
  std::string reason;     // kRejected: which rule, with the offending value
};

// The registers as the VMM (KVM) sees them for a TDG.VP.VMCALL: every GPR whose bit is
// clear in the RCX expose mask (bits 15:0) reads 0; RCX itself is always passed.
TdcallRegs vmm_view(const TdcallRegs& regs);

// Checks in the module's then KVM's order: RCX expose mask (bits 0,1,4,5 and 63:32 ->
// TDX_OPERAND_INVALID in RAX), R10 == 0 (standard call), R11 == 48, the registers the
// call needs exposed, size 1/2/4/8, direction 0/1, shared GPA at both ends of the access
// (private -> INVALID_OPERAND, no exit); then strips the shared bit.
VmcallMmioDecision check_vmcall_mmio(const TdcallRegs& regs, uint64_t shared_bit, uint32_t vcpu);

}  // namespace tdsim::ucall
