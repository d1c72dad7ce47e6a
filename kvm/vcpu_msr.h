// One MSR of a vCPU through KVM_GET_MSRS / KVM_SET_MSRS, laid out as the kernel reads
// them: an 8-byte header, then the entry. Not <linux/kvm.h>'s struct kvm_msrs, which
// Debian's 6.1 headers declare with a flexible array that C++ pads to 16 bytes, putting
// `entries` where the kernel does not look (kvm/tdx_uapi.h).
#pragma once
#include <cstdint>
#include <optional>

namespace tdsim::kvm {

// KVM_SET_MSRS of `index` = `data` as the host (KVM's host_initiated rules): true where
// KVM took it.
bool set_vcpu_msr(int vcpu_fd, uint32_t index, uint64_t data);
// KVM_GET_MSRS of `index`; nullopt where KVM refused it.
std::optional<uint64_t> get_vcpu_msr(int vcpu_fd, uint32_t index);

}  // namespace tdsim::kvm
