// Every vCPU checks in, then waits at a barrier until all nr_vcpus have arrived: proves
// each vCPU boots with its own index and stack and that LOCK XADD is shared memory.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

namespace rk = tdsim::test::reports;

namespace {
uint64_t g_arrived;  // .bss: zero at load
}

extern "C" void guest_main(uint32_t vcpu) {
  GUEST_SYNC_ARGS(rk::kSmpArrived, vcpu);
  uint64_t one = 1;
  asm volatile("lock xaddq %0, %1" : "+r"(one), "+m"(g_arrived) : : "memory", "cc");

  const uint64_t want = tdsim::guest::nr_vcpus();
  uint64_t seen = 0;
  for (uint64_t spins = 0;; ++spins) {
    seen = __atomic_load_n(&g_arrived, __ATOMIC_ACQUIRE);
    if (seen >= want) break;
    if (spins >= rk::kSmpSpinLimit)
      GUEST_FAIL("vCPU %u: barrier stuck at %lu of %lu vCPUs", vcpu, seen, want);
    asm volatile("pause");
  }
  GUEST_SYNC_ARGS(rk::kSmpReleased, vcpu, seen);
  GUEST_DONE();
}
