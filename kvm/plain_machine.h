// A plain (default-type) KVM VM holding a TdImage in the TD initial state, with the TD
// platform (tdx/) behind the TDCALLs this KVM cannot execute. The mechanism behind
// PlainKvmVm (the host API), which KvmBackend drives with a thread per vCPU.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "core/backend.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "kvm_vm.h"
#include "tdx/tdx_module.h"
#include "kvm_stepper.h"

namespace tdsim::kvm {

class PlainMachine {
 public:
  // `image` must outlive the machine. MMIO reads (KVM_EXIT_MMIO and emulated TDCALL
  // MMIO alike) are answered by config.hooks.mmio_read. Throws BackendError.
  PlainMachine(const TdImage& image, ::tdsim::tdx::TdxConfig config);

  const TdImage& image() const { return image_; }
  GuestMemory& memory() { return mem_; }
  const GuestMemory& memory() const { return mem_; }
  const std::vector<KvmVcpu*>& vcpus() const { return vcpus_; }

  // One exit of vCPU `index` after KVM_RUN returned to userspace (kvm_stepper.h's
  // ExitHandler contract): events go to `emit`, faults carry the explanation.
  bool handle_exit(KvmVcpu& vcpu, uint32_t index, const Emit& emit);

 private:
  // KVM_EXIT_IO: the #VE a TD takes for port I/O, injected with the instruction undone.
  bool port_io_ve(KvmVcpu& vcpu, uint32_t index, const Emit& emit);
  const TdImage& image_;
  GuestMemory mem_;
  MmioReadHandler mmio_read_;
  ::tdsim::tdx::TdxModule platform_;
  std::mutex platform_lock_;  // vCPU threads share the platform's TD-wide state
  KvmVm vm_;
  std::vector<KvmVcpu*> vcpus_;
};

}  // namespace tdsim::kvm
