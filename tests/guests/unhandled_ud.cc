// Executes UD2 after reporting its address. With the runtime's IDT stubs installed, KVM
// delivers #UD (vector 6) to them and the guest reports UCALL_UNHANDLED(6, 0, that
// address); the Unicorn backend reports the exception itself.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  uint64_t site;
  asm volatile("lea tdsim_test_ud2_site(%%rip), %0" : "=r"(site));
  GUEST_SYNC_ARGS(tdsim::test::reports::kUdSite, site);
  asm volatile(".globl tdsim_test_ud2_site\n"
               "tdsim_test_ud2_site: ud2" ::: "memory");
  GUEST_FAIL("execution continued after ud2 at %#lx", site);
}
