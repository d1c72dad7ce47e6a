// Guest side: the #VE handler a TD guest installs so that port I/O, CPUID leaves and
// MSRs the TDX module does not handle work as on a real TD (as Linux's TD guest does):
// TDG.VP.VEINFO.GET says what the CPU refused, the handler asks the VMM with
// TDG.VP.VMCALL<Instruction.IO>, <Instruction.CPUID> or <Instruction.RDMSR/WRMSR>, puts
// the result where the instruction would have, and resumes after it. Anything else is
// reported unhandled.
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

extern "C" [[noreturn]] void tdsim_report_unhandled(uint64_t vector, uint64_t error_code, uint64_t rip);

namespace {

using tdsim::guest::ExRegs;
using tdsim::guest::TdcallAll;

// Instruction.IO: R12 size, R13 direction (0 in, 1 out), R14 port, R15 the value out;
// R11 comes back with the value in. Returns R10 (the VMM's status).
uint64_t vmcall_io(uint32_t size, bool out, uint16_t port, uint64_t value, uint64_t* in_value) {
  TdcallAll a;
  a.rax = tdsim::abi::kTdgVpVmcall;
  a.rcx = tdsim::abi::kVmcallExposeR10toR15;
  a.r10 = tdsim::abi::kVmcallStandard;
  a.r11 = tdsim::abi::kVmcallIo;
  a.r12 = size;
  a.r13 = out ? 1 : 0;
  a.r14 = port;
  a.r15 = value;
  tdsim::guest::tdcall_all(a);
  *in_value = a.r11;
  return a.r10;
}

// Instruction.CPUID: R12 leaf, R13 sub-leaf in; R12..R15 = EAX, EBX, ECX, EDX out.
uint64_t vmcall_cpuid(ExRegs* regs) {
  TdcallAll a;
  a.rax = tdsim::abi::kTdgVpVmcall;
  a.rcx = tdsim::abi::kVmcallExposeR10toR15;
  a.r10 = tdsim::abi::kVmcallStandard;
  a.r11 = tdsim::abi::kVmcallCpuid;
  a.r12 = static_cast<uint32_t>(regs->rax);
  a.r13 = static_cast<uint32_t>(regs->rcx);
  tdsim::guest::tdcall_all(a);
  if (a.r10 != tdsim::abi::kVmcallSuccess) return a.r10;
  // CPUID writes the 32-bit registers: the upper halves become 0.
  regs->rax = static_cast<uint32_t>(a.r12);
  regs->rbx = static_cast<uint32_t>(a.r13);
  regs->rcx = static_cast<uint32_t>(a.r14);
  regs->rdx = static_cast<uint32_t>(a.r15);
  return a.r10;
}

// Instruction.RDMSR: R12 the MSR in, R11 its value out. Instruction.WRMSR: R12 the MSR,
// R13 the value.
uint64_t vmcall_msr(ExRegs* regs, bool write) {
  TdcallAll a;
  a.rax = tdsim::abi::kTdgVpVmcall;
  a.rcx = tdsim::abi::kVmcallExposeR10toR15;
  a.r10 = tdsim::abi::kVmcallStandard;
  a.r11 = write ? tdsim::abi::kVmcallWrmsr : tdsim::abi::kVmcallRdmsr;
  a.r12 = static_cast<uint32_t>(regs->rcx);
  a.r13 = (regs->rdx << 32) | static_cast<uint32_t>(regs->rax);
  tdsim::guest::tdcall_all(a);
  if (a.r10 == tdsim::abi::kVmcallSuccess && !write) {
    regs->rax = static_cast<uint32_t>(a.r11);
    regs->rdx = a.r11 >> 32;
  }
  return a.r10;
}

}  // namespace

extern "C" void tdsim_ve_handler(ExRegs* regs) {
  TdcallAll info;
  info.rax = tdsim::abi::kTdgVpVeinfoGet;
  tdsim::guest::tdcall_all(info);
  // exit reason, qualification, instruction length: RCX, RDX, R10[31:0]
  if (info.rax != tdsim::abi::kTdxSuccess)
    tdsim_report_unhandled(regs->vector, info.rax, regs->rip);
  const uint32_t reason = static_cast<uint32_t>(info.rcx);
  if (reason == tdsim::abi::kExitReasonCpuid) {
    if (vmcall_cpuid(regs) != tdsim::abi::kVmcallSuccess) tdsim_report_unhandled(regs->vector, reason, regs->rip);
    regs->rip += static_cast<uint32_t>(info.r10);
    return;
  }
  if (reason == tdsim::abi::kExitReasonRdmsr || reason == tdsim::abi::kExitReasonWrmsr) {
    // A refusal is what the CPU would make a #GP (Linux's TD guest does the same).
    if (vmcall_msr(regs, reason == tdsim::abi::kExitReasonWrmsr) != tdsim::abi::kVmcallSuccess)
      tdsim_report_unhandled(13, reason, regs->rip);
    regs->rip += static_cast<uint32_t>(info.r10);
    return;
  }
  if (reason != tdsim::abi::kExitReasonIoInstruction) tdsim_report_unhandled(regs->vector, reason, regs->rip);
  const uint64_t q = info.rdx;
  const uint32_t size = static_cast<uint32_t>(q & 7) + 1;
  const bool in = q & tdsim::abi::kIoQualIn;
  const uint16_t port = static_cast<uint16_t>(q >> 16);
  const uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
  uint64_t value = 0;
  if (vmcall_io(size, !in, port, regs->rax & mask, &value) != tdsim::abi::kVmcallSuccess)
    tdsim_report_unhandled(regs->vector, q, regs->rip);
  if (in) regs->rax = size == 4 ? (value & mask) : ((regs->rax & ~mask) | (value & mask));  // IN EAX zero-extends
  regs->rip += static_cast<uint32_t>(info.r10);
}
