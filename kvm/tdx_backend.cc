#include "tdx_backend.h"

#include "core/run_to_end.h"
#include "probe.h"
#include "tdx_vm.h"

namespace tdsim {

void TdxBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  // Say exactly what is missing before touching anything.
  const kvm::HostProbe probe = kvm::probe_host();
  if (const auto* b = probe.backend("kvm-tdx"); !b->can_run)
    throw BackendError("kvm-tdx cannot run on this host: " + b->reason);
  kvm::TdxVm vm(image, VmOptions{limits}, config_);
  vm.set_mmio_read(mmio_read_);
  run_to_end(vm, limits, /*slice=*/0, sink);
}

}  // namespace tdsim
