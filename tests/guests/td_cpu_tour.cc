// A TD guest using the TD's CPU the way TD guests do, all in one: it asserts the CPUID
// a TD may rely on (max basic leaf >= 0x21, "GenuineIntel", SSE3/SSSE3/SSE4.1/SSE4.2/
// x2APIC/XSAVE/hypervisor, NX and LM, the TD's GPAW, "IntelTDX    "), then, through the
// runtime's #VE handler, writes and reads back POWER_CTL and the x2APIC ICR, does port
// I/O, and writes and reads the shared MMIO window. It reports only values the TD
// defines (never a register the host CPU fills in), so every backend must give the same
// events: SYNC(#VEs taken, POWER_CTL, ICR, IN from port 0x71, the MMIO read), DONE.
#include <stdint.h>

#include "tests/guests/msr_guest.h"

using namespace tdsim::test_guest;

namespace {

void assert_td_cpuid() {
  using tdsim::guest::cpuid;
  const auto l0 = cpuid(0, 0);
  const auto l1 = cpuid(1, 0);
  const auto e1 = cpuid(0x80000001, 0);
  const auto e8 = cpuid(0x80000008, 0);
  const auto l21 = cpuid(0x21, 0);
  GUEST_ASSERT(l0.eax >= 0x21);
  GUEST_ASSERT(l0.ebx == 0x756e6547 && l0.edx == 0x49656e69 && l0.ecx == 0x6c65746e);  // GenuineIntel
  const uint32_t td_ecx = (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 26) | (1u << 31);
  GUEST_ASSERT_EQ(l1.ecx & td_ecx, td_ecx);
  GUEST_ASSERT_EQ(e1.edx & ((1u << 20) | (1u << 29)), (1u << 20) | (1u << 29));
  GUEST_ASSERT_EQ((e8.eax >> 16) & 0xff, tdsim::guest::gpaw());
  GUEST_ASSERT(l21.ebx == 0x65746e49 && l21.edx == 0x5844546c && l21.ecx == 0x20202020);
}

// The layout's shared MMIO window starts at the page after the ucall MMIO page.
uint64_t mmio_window() {
  const uint64_t mmio = tdsim::guest::ucall_mmio_gpa() & ~tdsim::guest::shared_bit();
  return (mmio & ~0xfffull) + 0x1000;
}

}  // namespace

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
  const uint64_t w = mmio_window();
  asm volatile("movl %k0, (%1)" : : "r"(0x12345678), "r"(w) : "memory");
  uint64_t mmio = 0;
  asm volatile("movl 0x40(%1), %k0" : "=r"(mmio) : "r"(w) : "memory");
  GUEST_SYNC_ARGS(1, g_ves, power_ctl, icr, port, mmio);
  GUEST_DONE();
}
