// RDMSR/WRMSR of MSRs the TDX module makes a #VE (POWER_CTL 0x1fc, the x2APIC ICR 0x830)
// through the runtime's #VE handler, which asks KVM with TDG.VP.VMCALL<Instruction.
// RDMSR/WRMSR; PAT runs natively. Reports (#VEs taken, POWER_CTL, ICR, PAT) after
// writing 2 to POWER_CTL and a fixed IPI (vector 0xf0, APIC ID 1) to the ICR.
#include <stdint.h>

#include "ucall/guest/guest.h"

namespace {
volatile uint64_t g_ves = 0;
void counting_ve_handler(tdsim::guest::ExRegs* regs) {
  g_ves = g_ves + 1;
  tdsim_ve_handler(regs);
}
uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)));
}
}  // namespace

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
