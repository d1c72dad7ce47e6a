// Reports CPUID(1).EAX (family/model/stepping) and finishes. The value is what each
// backend presents: `tdsim diff` must call the streams different here (the TD CPUID
// model's on Unicorn against whatever this KVM host gives a VM whose CPUID it will not
// set).
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  uint32_t eax = 1, ebx, ecx = 0, edx;
  asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  GUEST_SYNC_ARGS(tdsim::test::reports::kCpuidLeaf1Eax, eax);
  GUEST_DONE();
}
