// The smallest useful guest: prints, syncs, prints formatted numbers, finishes.
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t vcpu) {
  GUEST_PRINTF("hello from vCPU %u", vcpu);
  GUEST_SYNC(1);
  GUEST_PRINTF("nr_vcpus=%u mmio=%#lx pool=%#lx answer=%d hex=%08x", tdsim::guest::nr_vcpus(),
               tdsim::guest::ucall_mmio_gpa(), tdsim::guest::ucall_pool_gva(), 42, 0xbeefu);
  GUEST_DONE();
}
