// The host API (core/vm.h) on the Unicorn backend: a Session whose vCPUs are stepped one
// event or turn at a time, by the host or by core/run_to_end.h (which is how
// UnicornBackend runs an image). One engine runs at a time (a Vm-wide lock):
// LOCK-prefixed instructions are not atomic across engines, and the caller's order of
// run() calls is then the order the guest sees.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "core/vm.h"
#include "session.h"
#include "sim_debug_target.h"
#include "tdx/host_hooks.h"

namespace tdsim::sim {

class SimVm : public Vm {
 public:
  // `image` must outlive the VM. Throws BackendError.
  SimVm(const TdImage& image, const VmOptions& options, tdx::TdxConfig config = {});
  ~SimVm() override;

  const TdImage& image() const override { return session_.image(); }
  uint32_t nr_vcpus() const override { return session_.nr_vcpus(); }
  tdsim::Vcpu& vcpu(uint32_t index) override;
  bool read(uint64_t gpa, void* dst, uint64_t len) const override;
  bool write(uint64_t gpa, const void* src, uint64_t len) override;
  void set_mmio_read(MmioReadHandler handler) override;
  // Made on first use: from then on the vCPUs also feed the facet's TDCALL log, which
  // a VM nobody debugs should not pay for.
  DebugTarget* debug_target() override;
  // Trace lines and stub coverage (nullptr: off); `t` must outlive the runs.
  void set_trace(const TraceOptions* t) { session_.set_trace(t); }
  bool concurrent_vcpus() const override { return false; }
  std::vector<Event> end_of_run() override { return session_.tdx().end_of_run(); }

 private:
  class Stepper;
  friend class Stepper;
  SimVm(const TdImage& image, const VmOptions& options, tdx::TdxConfig config,
        std::shared_ptr<MmioReadHandler> mmio);
  Watchdog& watch(Watchdog::Clock::time_point deadline);
  Session session_;
  VmOptions options_;
  Watchdog::Clock::time_point armed_for_ = Watchdog::Clock::time_point::max();  // disarmed
  std::mutex engine_lock_;
  std::shared_ptr<MmioReadHandler> mmio_read_;
  std::vector<std::unique_ptr<Stepper>> vcpus_;
  std::unique_ptr<SimDebugTarget> debug_;
};

}  // namespace tdsim::sim
