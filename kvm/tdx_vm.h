// The host API (core/vm.h) on a real TD (kvm-tdx): the launch plan executed through the
// KVM TDX uAPI, then each vCPU a KvmStepper whose exits go to the platform's VMM layer
// (kvm/tdx_exits.h, tdx/vmm.h). What a TD hides stays hidden: the host reads and writes
// shared memory only (private pages live in guest_memfd, encrypted), it cannot resume a
// stopped vCPU (no registers), and nothing counts instructions.
#pragma once
#include <memory>
#include <vector>

#include "core/guest_memory.h"
#include "core/vm.h"
#include "kvm_stepper.h"
#include "tdx/host_hooks.h"

namespace tdsim::tdx {
class Vmm;
}

namespace tdsim::kvm {

class TdxLaunch;

class TdxVm : public Vm {
 public:
  // `image` must outlive the VM. Throws BackendError naming what the host lacks or the
  // first ioctl that failed.
  TdxVm(const TdImage& image, const VmOptions& options, ::tdsim::tdx::TdxConfig config = {});
  ~TdxVm() override;

  const TdImage& image() const override { return image_; }
  uint32_t nr_vcpus() const override { return static_cast<uint32_t>(vcpus_.size()); }
  tdsim::Vcpu& vcpu(uint32_t index) override;
  // Shared memory only: false for any range that is not inside one shared region.
  bool read(uint64_t gpa, void* dst, uint64_t len) const override;
  bool write(uint64_t gpa, const void* src, uint64_t len) override;
  // Install the device before running: the vCPU threads read it without a lock.
  void set_mmio_read(MmioReadHandler handler) override;
  bool concurrent_vcpus() const override { return true; }

 private:
  bool shared_range(uint64_t gpa, uint64_t len) const;

  const TdImage& image_;
  GuestMemory mem_;  // the TD sees the real S-bit: no page-table folding here
  std::shared_ptr<MmioReadHandler> mmio_read_;
  ::tdsim::tdx::TdxConfig config_;  // the VMM keeps a reference
  std::unique_ptr<TdxLaunch> launch_;
  std::unique_ptr<::tdsim::tdx::Vmm> vmm_;
  std::vector<std::unique_ptr<KvmStepper>> vcpus_;
};

}  // namespace tdsim::kvm
