// What this host offers the KVM backends: /dev/kvm, API version, VM types, TDX, plain
// KVM usability, MAXPHYADDR, and per backend ("kvm", "kvm-tdx") whether it can run here
// and exactly why not. Used by `tdsim probe`, "auto" backend selection and tests.
// Depends only on the kernel interface; knows no TD image.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tdsim::kvm {

struct BackendAvailability {
  std::string name;    // "kvm" or "kvm-tdx"
  bool can_run = false;
  std::string reason;  // why not (empty when can_run)
};

struct HostProbe {
  bool dev_kvm_present = false;
  bool dev_kvm_openable = false;
  std::string open_error;        // "open /dev/kvm: Permission denied"
  int api_version = -1;
  bool vm_types_cap = false;     // KVM_CAP_VM_TYPES known to this kernel
  uint64_t vm_types_mask = 0;    // bit n = VM type n accepted by KVM_CREATE_VM
  std::vector<std::string> vm_types;  // names of the set bits
  bool tdx_vm_type = false;      // bit 5 (KVM_X86_TDX_VM)
  bool guest_memfd = false;      // KVM_CAP_GUEST_MEMFD on a TDX VM type (else system)
  bool memory_attributes = false;
  std::string kvm_intel_tdx_param;  // /sys/module/kvm_intel/parameters/tdx, if present
  bool plain_kvm_usable = false;
  std::string plain_kvm_error;   // the ioctl that failed when creating VM + vCPU
  uint32_t host_maxphyaddr = 0;  // CPUID 0x80000008 EAX[7:0]
  std::vector<BackendAvailability> backends;
  bool kvm_usable = false;  // == backend("kvm")->can_run
  bool tdx_usable = false;  // == backend("kvm-tdx")->can_run

  const BackendAvailability* backend(std::string_view name) const;
};

HostProbe probe_host();

// Multi-line report for `tdsim probe`.
std::string describe(const HostProbe& p);

// Name of a KVM VM type ("KVM_X86_TDX_VM"), or "type N".
std::string vm_type_name(unsigned type);

}  // namespace tdsim::kvm

namespace tdsim {
// The CLI (`tdsim probe`, --backend auto) uses these without the kvm:: qualifier.
using kvm::HostProbe;
using kvm::probe_host;
}  // namespace tdsim
