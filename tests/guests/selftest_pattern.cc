// The rhythm every KVM selftest is written in: the guest syncs, the host changes a
// global in guest memory (sync_global_to_guest) and resumes, the guest reads it back.
// Each vCPU reports (stage, value it saw) twice, asserts the host's value, then DONE.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

// Written by the host between the two syncs; unmangled so the host finds the symbol.
extern "C" {
volatile uint64_t tdsim_test_host_value;
}

extern "C" void guest_main(uint32_t vcpu) {
  GUEST_SYNC_ARGS(tdsim::test::reports::kPatternBefore, vcpu, tdsim_test_host_value);
  GUEST_SYNC_ARGS(tdsim::test::reports::kPatternAfter, vcpu, tdsim_test_host_value);
  GUEST_ASSERT_EQ(tdsim_test_host_value, tdsim::test::reports::kPatternHostValue);
  GUEST_DONE();
}
