// Puts a plain KVM vCPU into the architectural initial state of a TD vCPU (TDH.VP.INIT
// + TD VMCS init; docs/tdx-abi.md, "TD initial vCPU state"): flat 32-bit protected mode,
// paging off, RIP 0xfffffff0, EFER 0x901. Used only by the plain backend: a real TD's
// state is set by the TDX module.
#pragma once
#include <linux/kvm.h>

#include <cstdint>

#include "core/td_image.h"

namespace tdsim::kvm {

// CPUID(1).EAX of the host CPU: the family/model/stepping a TD sees in RDX at reset.
uint32_t host_cpuid1_eax();

// The TD reset register and segment state for vCPU `index` of `image`, applied on top of
// what KVM_GET_SREGS returned (so fields we do not set keep KVM's reset values).
void td_initial_regs(const TdImage& image, uint32_t index, kvm_regs& regs);
void td_initial_sregs(kvm_sregs& sregs);

// KVM_GET_SREGS, td_initial_sregs, KVM_SET_SREGS, then KVM_SET_REGS.
void load_td_initial_state(int vcpu_fd, const TdImage& image, uint32_t index);

}  // namespace tdsim::kvm
