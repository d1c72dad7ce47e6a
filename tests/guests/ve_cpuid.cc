// CPUID of a leaf the TDX module does not answer (the hypervisor range 0x40000000) is a
// #VE in a TD: with the runtime's #VE handler the guest gets the VMM's answer
// (TDG.VP.VMCALL<Instruction.CPUID>) and counts the #VE; without one the default
// handler reports UCALL_UNHANDLED(20). Reports (#VEs taken, EAX, EBX, ECX, EDX).
#include <stdint.h>

#include "ucall/guest/guest.h"

namespace {
volatile uint64_t g_ves = 0;
void counting_ve_handler(tdsim::guest::ExRegs* regs) {
  g_ves = g_ves + 1;
  tdsim_ve_handler(regs);
}
}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, counting_ve_handler);
  const auto r = tdsim::guest::cpuid(0x40000000, 0);
  GUEST_SYNC_ARGS(1, g_ves, r.eax, r.ebx, r.ecx, r.edx);
  tdsim::guest::install_exception_handler(20, nullptr);
  (void)tdsim::guest::cpuid(0x40000000, 0);
  GUEST_FAIL("CPUID 0x40000000 without a #VE handler went on");
}
