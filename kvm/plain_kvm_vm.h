// The host API (core/vm.h) on plain KVM: the PlainMachine's vCPUs stepped one KVM exit
// at a time on the caller's thread (KVM_RUN until the exit handler reports an event).
// One vCPU runs at a time, in the host's order. Each run() call is bounded by a POSIX
// timer that knocks the thread out of KVM_RUN at the deadline.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "core/vm.h"
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
  void set_mmio_read(MmioReadHandler handler) override;

 private:
  class Stepper;
  std::shared_ptr<MmioReadHandler> mmio_read_;
  std::unique_ptr<PlainMachine> machine_;
  VmOptions options_;
  std::mutex run_lock_;
  std::vector<std::unique_ptr<Stepper>> vcpus_;
};

}  // namespace tdsim::kvm
