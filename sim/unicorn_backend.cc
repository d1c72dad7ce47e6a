#include "unicorn_backend.h"

#include "core/run_to_end.h"
#include "session.h"
#include "sim_vm.h"

namespace tdsim {

// The mechanism stepped through the host API, vCPUs taking fixed turns
// (core/run_to_end.h).
void UnicornBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  sim::SimVm vm(image, VmOptions{limits}, config_);
  vm.set_trace(trace_);
  vm.set_mmio_read(config_.hooks.mmio_read);
  run_to_end(vm, limits, slice_ ? slice_ : sim::Session::kDefaultSlice, sink);
}

}  // namespace tdsim
