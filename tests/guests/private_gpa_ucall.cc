// Sends TDG.VP.VMCALL<MMIO> to the ucall GPA *without* the shared bit. TDX/KVM refuse
// MMIO to private GPAs with TDG.VP.VMCALL_INVALID_OPERAND and no exit; the guest
// reports the status it got (expected 0x8000000000000000), then finishes normally.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

namespace rk = tdsim::test::reports;

extern "C" void guest_main(uint32_t) {
  const uint64_t private_gpa = tdsim::guest::ucall_mmio_gpa() & ~tdsim::guest::shared_bit();
  uint64_t r10 = ~0ull;
  const uint64_t rax =
      tdsim::guest::tdcall_vmcall_mmio_write(private_gpa, tdsim::guest::ucall_pool_gva(), &r10);
  GUEST_SYNC_ARGS(rk::kPrivateGpaResult, r10, rax, private_gpa);
  GUEST_DONE();
}
