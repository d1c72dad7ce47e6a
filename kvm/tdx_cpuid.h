// The CPUID list handed to KVM_TDX_INIT_VM: what KVM supports, restricted to the leaves
// the TDX module lets the VMM configure (KVM_TDX_CAPABILITIES), with the GPA width in
// CPUID 0x80000008 EAX[23:16] (selftests' tdx_init_vm does the same). Pure.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tdx/cpuid_model.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

// Keeps each supported entry whose (function, index) the module lists as configurable,
// each register ANDed with the configurable mask; then sets EAX[23:16] of 0x80000008 to
// gpaw (adding the leaf if the list lacks it).
std::vector<tdx::CpuidEntry2> build_init_vm_cpuid(const std::vector<tdx::CpuidEntry2>& supported,
                                                  const std::vector<tdx::CpuidEntry2>& configurable,
                                                  uint32_t gpaw);

// The same, each value further limited to the TD CPUID model `td` (tdx/td_cpuid.h): the
// configuration asks for no more than the TD's CPU is meant to show.
std::vector<tdx::CpuidEntry2> build_init_vm_cpuid(const std::vector<tdx::CpuidEntry2>& supported,
                                                  const std::vector<tdx::CpuidEntry2>& configurable,
                                                  const ::tdsim::tdx::CpuidModel& td, uint32_t gpaw);

// One entry per (leaf, sub-leaf) of `m`; entries with a sub-leaf carry
// KVM_CPUID_FLAG_SIGNIFCANT_INDEX.
std::vector<tdx::CpuidEntry2> cpuid_entries(const ::tdsim::tdx::CpuidModel& m);

// KVM_SET_CPUID2 on a vCPU: "" on success, else the ioctl and its errno text.
std::string set_vcpu_cpuid(int vcpu_fd, const std::vector<tdx::CpuidEntry2>& entries);

// The vCPU's KVM_SET_CPUID2 table on a TD: `td` (what KVM_TDX_GET_CPUID returned) and
// every leaf of the VMM's model `vmm` that `td` lacks. KVM answers a TD's
// TDG.VP.VMCALL<Instruction.CPUID> from this table, so a VMM's hypervisor leaves reach
// the guest's #VE handler only through it.
std::vector<tdx::CpuidEntry2> td_vcpu_cpuid(std::vector<tdx::CpuidEntry2> td, const ::tdsim::tdx::CpuidModel& vmm);

}  // namespace tdsim::kvm
