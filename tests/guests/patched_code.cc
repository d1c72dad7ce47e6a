// A guest function the host rewrites between two calls: the second call must run the
// new bytes (translated code dropped on Unicorn; KVM runs memory as it is).
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" __attribute__((noinline, used, aligned(16))) uint64_t tdsim_test_patch_me() {
  uint64_t v;
  // A fixed 10-byte body the host can overwrite in place: movabs $1, %rax; ret.
  asm volatile("movabs $1, %0" : "=a"(v));
  return v;
}

extern "C" void guest_main(uint32_t) {
  GUEST_SYNC_ARGS(tdsim::test::reports::kPatchBefore, tdsim_test_patch_me());
  GUEST_SYNC_ARGS(tdsim::test::reports::kPatchAfter, tdsim_test_patch_me());
  GUEST_DONE();
}
