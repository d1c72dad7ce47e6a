// Every check the conformance guest can report, in the order `tdsim conformance` prints
// them, grouped as the KTAP subtests. The host owns this list so numbering is the same
// on every backend: a check a backend cannot run is still printed, as a SKIP (the guest
// reports one skip for a whole block outside a TD), and a check the guest never reported
// is a failure. A check the guest reports that is missing here is a failure too, so the
// list cannot drift from conformance/guest/ unnoticed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tdsim::conformance {

struct CatalogueEntry {
  std::string group;       // KTAP subtest: "boot", "vp_info", ...
  std::string name;        // as the guest reports it: "boot.cr0_from_params[vcpu1]"
  uint32_t vcpu = 0;       // the vCPU that reports it
  std::string skip_block;  // the guest's block skip that covers it ("tdx_leaves[vcpu1]"), or ""
};

// The list for a TD of `nr_vcpus` vCPUs; "run.vcpuN_completed" (the host's own check
// per vCPU) last.
std::vector<CatalogueEntry> catalogue(uint32_t nr_vcpus);

}  // namespace tdsim::conformance
