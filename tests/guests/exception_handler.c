// Exception handlers from a C guest: #UD and #DE handlers that record what they saw and
// change registers; the vCPU must resume with those registers (#UD past the UD2, #DE at
// the DIV again, which faults three times in a row before the handler fixes the divisor:
// each is a #DE, never a #DF, as on hardware). Then the #UD handler is removed and UD2
// must end the guest with UCALL_UNHANDLED, as without handlers.
#include "ucall/guest/guest.h"

static volatile uint64_t g_vector, g_rip, g_rax, g_count, g_de;

static void on_ud(ExRegs* r) {
  g_vector = r->vector;
  g_rip = r->rip;
  g_rax = r->rax;
  g_count++;
  r->rax = 0x600d;
  r->rip += 2;  // past the UD2
}

static void on_de(ExRegs* r) {
  g_count++;
  if (++g_de == 3) r->rcx = 4;  // a fault: the DIV runs again, at last with this divisor
}

void guest_main(uint32_t vcpu) {
  (void)vcpu;
  tdsim_install_exception_handler(6, on_ud);
  tdsim_install_exception_handler(0, on_de);

  uint64_t rax = 0x1234, site;
  __asm__ volatile("lea 1f(%%rip), %1\n1: ud2" : "+a"(rax), "=&r"(site) : : "memory");
  GUEST_SYNC_ARGS(1, g_vector, g_rip == site, rax, g_rax);

  uint64_t quotient = 100, rdx = 0, divisor = 0;
  __asm__ volatile("divq %%rcx" : "+a"(quotient), "+d"(rdx), "+c"(divisor) : : "memory", "cc");
  GUEST_SYNC_ARGS(2, quotient, divisor, g_count);

  tdsim_install_exception_handler(6, 0);
  __asm__ volatile("ud2" : : : "memory");
  GUEST_FAIL("UD2 without a handler returned");
}
