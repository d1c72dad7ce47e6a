// RDMSR/WRMSR of MSRs the TDX module makes a #VE (POWER_CTL 0x1fc, the x2APIC ICR 0x830)
// through the runtime's #VE handler, which asks KVM with TDG.VP.VMCALL<Instruction.
// RDMSR/WRMSR; PAT runs natively. Reports (#VEs taken, POWER_CTL, ICR, PAT) after
// writing 2 to POWER_CTL and a fixed IPI (vector 0xf0, APIC ID 1) to the ICR.
#include "tests/guests/msr_guest.h"

using namespace tdsim::test_guest;

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, counting_ve_handler);
  wrmsr(0x1fc, 2);
  const uint64_t power_ctl = rdmsr(0x1fc);
  wrmsr(0x830, (1ull << 32) | 0xf0);
  const uint64_t icr = rdmsr(0x830);
  const uint64_t pat = rdmsr(0x277);
  GUEST_SYNC_ARGS(1, g_ves, power_ctl, icr, pat);
  GUEST_DONE();
}
