// Reports CPUID(1).EAX (family/model/stepping) and finishes. The value is the engine's
// CPU model, not the TD's: `tdsim diff` must call the backends' streams different here
// (Unicorn's qemu64 model against whatever the KVM host gives a VM without SET_CPUID2).
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  uint32_t eax = 1, ebx, ecx = 0, edx;
  asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  GUEST_SYNC_ARGS(tdsim::test::reports::kCpuidLeaf1Eax, eax);
  GUEST_DONE();
}
