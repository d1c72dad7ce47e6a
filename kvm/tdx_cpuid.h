// The CPUID list handed to KVM_TDX_INIT_VM: what KVM supports, restricted to the leaves
// the TDX module lets the VMM configure (KVM_TDX_CAPABILITIES), with the GPA width in
// CPUID 0x80000008 EAX[23:16] (selftests' tdx_init_vm does the same). Pure.
#pragma once
#include <cstdint>
#include <vector>

#include "tdx_uapi.h"

namespace tdsim::kvm {

// Keeps each supported entry whose (function, index) the module lists as configurable,
// each register ANDed with the configurable mask; then sets EAX[23:16] of 0x80000008 to
// gpaw (adding the leaf if the list lacks it).
std::vector<tdx::CpuidEntry2> build_init_vm_cpuid(const std::vector<tdx::CpuidEntry2>& supported,
                                                  const std::vector<tdx::CpuidEntry2>& configurable,
                                                  uint32_t gpaw);

}  // namespace tdsim::kvm
