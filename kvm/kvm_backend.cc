#include "kvm_backend.h"

#include "core/run_to_end.h"
#include "plain_kvm_vm.h"

namespace tdsim {

// The mechanism stepped through the host API, one thread per vCPU (core/run_to_end.h):
// the same TDX module, KVM TDVMCALL handling and VMM hooks the Unicorn backend uses,
// with this backend's MMIO device.
void KvmBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  kvm::PlainKvmVm vm(image, VmOptions{limits}, config_);
  vm.set_mmio_read(mmio_read_);
  run_to_end(vm, limits, /*slice=*/0, sink);
}

}  // namespace tdsim
