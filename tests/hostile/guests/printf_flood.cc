// Floods the host with ucalls: PRINTF after PRINTF until a budget stops it. A host that
// keeps every event grows with the run's length; tdsim must stay flat.
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t vcpu) {
  for (uint64_t i = 0;; ++i) GUEST_PRINTF("flood vcpu %u event %lu: some text so each event has a body", vcpu, i);
}
