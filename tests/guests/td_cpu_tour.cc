// A TD guest using the TD's CPU the way TD guests do, all in one: it asserts the CPUID
// a TD may rely on (max basic leaf >= 0x21, "GenuineIntel", SSE3/SSSE3/SSE4.1/SSE4.2/
// x2APIC/XSAVE/hypervisor, NX and LM, the TD's GPAW, "IntelTDX    "), then, through the
// runtime's #VE handler, writes and reads back POWER_CTL and the x2APIC ICR, does port
// I/O, and writes and reads the shared MMIO window. It reports only values the TD
// defines (never a register the host CPU fills in), so every backend must give the same
// events: SYNC(#VEs taken, POWER_CTL, ICR, IN from port 0x71, the MMIO read), DONE.
#include <stdint.h>

#include "tests/guests/msr_guest.h"
#include "tests/guests/td_cpuid_asserts.h"

using namespace tdsim::test_guest;

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, counting_ve_handler);
  assert_td_cpuid();
  wrmsr(0x1fc, 2);  // POWER_CTL
  const uint64_t power_ctl = rdmsr(0x1fc);
  wrmsr(0x830, (1ull << 32) | 0xf0);  // x2APIC ICR: vector 0xf0 to APIC ID 1
  const uint64_t icr = rdmsr(0x830);
  asm volatile("outb %%al, $0x80" : : "a"(0x5a));
  uint8_t port = 0;
  asm volatile("inb $0x71, %%al" : "=a"(port));
  const uint64_t w = shared_mmio_window();
  asm volatile("movl %k0, (%1)" : : "r"(0x12345678), "r"(w) : "memory");
  uint64_t mmio = 0;
  asm volatile("movl 0x40(%1), %k0" : "=r"(mmio) : "r"(w) : "memory");
  GUEST_SYNC_ARGS(1, g_ves, power_ctl, icr, port, mmio);
  GUEST_DONE();
}
