// Each vCPU sends one ucall datum the host must refuse to follow: vCPU 0 past 4 GiB,
// vCPU 1 a struct straddling the end of low RAM, vCPU 2 the MMIO hole itself. The host
// reports a GuestMemoryErrorEvent and stops that vCPU; nothing is ever read.
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"

namespace hk = tdsim::test::hostile;

extern "C" void guest_main(uint32_t vcpu) {
  const uint64_t hole = tdsim::guest::ucall_mmio_gpa() & ~tdsim::guest::shared_bit();  // == mem_size
  const uint64_t datum[] = {hk::kPastFourGiB, hole - hk::kStraddle, hole};
  if (vcpu < 3) tdsim::guest::ucall_send(datum[vcpu]);
  tdsim::guest::halt_forever();
}
