// An example guest in C: greets, reports a value to the host, checks what the host
// configured, and finishes. Runs on every vCPU the host gives the TD.
#include "ucall/guest/guest.h"

void guest_main(uint32_t vcpu) {
  GUEST_PRINTF("hello from C on vCPU %u of %u", vcpu, tdsim_nr_vcpus());
  GUEST_ASSERT(tdsim_config_valid());
  GUEST_SYNC(42);
  // A device register next to the ucall MMIO page's start: the host test answers it.
  const uint64_t dev = (tdsim_ucall_mmio_gpa() & ~tdsim_shared_bit()) + 0x100;
  uint64_t value = 0;
  GUEST_ASSERT_EQ(tdsim_mmio_read(dev, 4, &value), 0);
  GUEST_SYNC_ARGS(7, value, vcpu);
  GUEST_DONE();
}
