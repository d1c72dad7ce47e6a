// The conformance guest: checks the TD's boot state, the TDX module's leaves and every
// TDG.VP.VMCALL sub-function from inside, one PRINTF ucall per check (checks.h).
// vCPU 0 runs everything; the others check what differs per vCPU (index, stack).
#include "checks.h"

extern "C" void guest_main(uint32_t vcpu) {
  using namespace tdsim::conformance;
  boot_checks(vcpu);
  tdx_leaf_checks(vcpu);
  if (vcpu == 0) vmcall_checks();
  GUEST_DONE();
}
