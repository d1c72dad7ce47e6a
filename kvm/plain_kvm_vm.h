// The host API (core/vm.h) on plain KVM: the PlainMachine's vCPUs as KvmSteppers (KVM_RUN
// until the exit handler reports an event). vCPUs may run on several threads at once,
// as KVM's do (core/run_to_end.h runs one thread per vCPU); a host that steps them from
// one thread gets its own order.
#pragma once
#include <memory>
#include <vector>

#include "core/vm.h"
#include "kvm_debug_target.h"
#include "kvm_stepper.h"
#include "plain_machine.h"
#include "tdx/host_hooks.h"

namespace tdsim::kvm {

class PlainKvmVm : public Vm {
 public:
  // `image` must outlive the VM. Throws BackendError.
  PlainKvmVm(const TdImage& image, const VmOptions& options, ::tdsim::tdx::TdxConfig config = {});
  ~PlainKvmVm() override;

  const TdImage& image() const override { return machine_->image(); }
  uint32_t nr_vcpus() const override { return static_cast<uint32_t>(machine_->vcpus().size()); }
  tdsim::Vcpu& vcpu(uint32_t index) override;
  bool read(uint64_t gpa, void* dst, uint64_t len) const override;
  bool write(uint64_t gpa, const void* src, uint64_t len) override;
  // Install the device before running: the vCPU threads read it without a lock.
  void set_mmio_read(MmioReadHandler handler) override;
  bool concurrent_vcpus() const override { return true; }
  // Made on first use (single-stepping through KVM_SET_GUEST_DEBUG); a VM is either
  // stepped through its Vcpus or debugged through the facet, not both.
  DebugTarget* debug_target() override;

 private:
  std::shared_ptr<MmioReadHandler> mmio_read_;
  std::unique_ptr<PlainMachine> machine_;
  std::vector<std::unique_ptr<KvmStepper>> vcpus_;
  std::unique_ptr<KvmDebugTarget> debug_;
};

}  // namespace tdsim::kvm
