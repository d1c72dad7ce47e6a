#include "tdx_backend.h"

#include <linux/kvm.h>

#include "core/guest_memory.h"
#include "exit_events.h"
#include "probe.h"
#include "tdx_exits.h"
#include "tdx_launch.h"
#include "tdx_plan.h"
#include "vcpu_runner.h"

namespace tdsim {

namespace {

// RIP is unknown for a TD (its state is encrypted); events carry 0. The exits the VMM
// takes (MMIO, port I/O, MapGPA, KVM_EXIT_TDX, ReportFatalError) go through
// kvm/tdx_exits.cc to the platform's VMM layer, the one the simulated backends use.
bool handle_tdx_exit(kvm::KvmVcpu& vcpu, uint32_t index, const kvm::Emit& emit, const ::tdsim::tdx::Vmm& vmm) {
  kvm_run& run = *vcpu.run();
  const kvm::TdxExitOutcome o = kvm::handle_vmm_exit(run, vcpu.run_size(), index, vmm);
  if (o.handled) {
    const bool terminal = o.event && emit(*o.event);
    return !(terminal || o.stop);
  }
  switch (run.exit_reason) {
    case KVM_EXIT_HLT:
      emit(HaltEvent{index, 0});
      return false;
    case KVM_EXIT_SHUTDOWN:
      emit(FaultEvent{index, 0, -1, 0, true, "triple fault (KVM_EXIT_SHUTDOWN)"});
      return false;
    case KVM_EXIT_INTR:
      return true;
    default:
      break;
  }
  emit(FaultEvent{index, 0, -1, 0, false, "unexpected exit: " + kvm::describe_exit(run)});
  return false;
}

}  // namespace

void TdxBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  // Say exactly what is missing before touching anything.
  const kvm::HostProbe probe = kvm::probe_host();
  if (const auto* b = probe.backend("kvm-tdx"); !b->can_run)
    throw BackendError("kvm-tdx cannot run on this host: " + b->reason);

  GuestMemory mem(image);  // the TD sees the real S-bit: no page-table folding here
  const kvm::TdxPlan plan = kvm::plan_tdx_launch(image);
  kvm::TdxLaunch td(image, mem, plan);
  // The VMM's defaults (TdxConfig) with this backend's MMIO device.
  ::tdsim::tdx::TdxConfig config;
  config.hooks.mmio_read = mmio_read_;
  const ::tdsim::tdx::Vmm vmm(image, mem, config);
  kvm::run_vcpus(td.vcpus(), limits, sink,
                 [&](kvm::KvmVcpu& v, uint32_t index, const kvm::Emit& emit) {
                   return handle_tdx_exit(v, index, emit, vmm);
                 });
}

}  // namespace tdsim
