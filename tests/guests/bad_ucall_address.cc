// Sends a ucall whose datum points outside guest memory: the host must report a guest
// memory error naming that address instead of reading it. Then spins (budget ends it).
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  tdsim::guest::ucall_send(tdsim::test::reports::kBadUcallAddress);
  for (;;) asm volatile("" ::: "memory");
}
