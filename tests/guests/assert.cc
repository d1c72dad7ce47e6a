// A guest whose GUEST_ASSERT_EQ fails: the host must see UCALL_ABORT with this file,
// the line reported just before, the expression text and the formatted values.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t vcpu) {
  const uint64_t answer = 41 + vcpu;
  GUEST_SYNC_ARGS(tdsim::test::reports::kAssertLine, __LINE__ + 1);
  GUEST_ASSERT_EQ(answer, 42);
  GUEST_FAIL("GUEST_ASSERT_EQ(%lu, 42) did not stop the guest", answer);
}
