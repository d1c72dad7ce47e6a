#include "tdx_backend.h"

#include <fmt/format.h>
#include <linux/kvm.h>

#include "core/guest_memory.h"
#include "exit_events.h"
#include "probe.h"
#include "tdx_launch.h"
#include "tdx_plan.h"
#include "tdx_uapi.h"
#include "vcpu_runner.h"

namespace tdsim {

namespace {

// RIP is unknown for a TD (its state is encrypted); events carry 0.
bool handle_tdx_exit(kvm::KvmVcpu& vcpu, uint32_t index, const kvm::Emit& emit, const TdImage& image,
                     const GuestMemory& mem, const MmioReadHandler& read) {
  kvm_run& run = *vcpu.run();
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO:  // from TDG.VP.VMCALL<#VE.RequestMMIO>; GPA already untagged
      return !emit(kvm::decode_mmio_exit(run, index, image, mem, read));
    case KVM_EXIT_SYSTEM_EVENT:
      if (run.system_event.type == kvm::tdx::kSystemEventTdxFatal) {
        const uint64_t code = run.system_event.data[kvm::tdx::kTdxFatalErrorCodeIndex];
        const uint64_t gpa = run.system_event.data[kvm::tdx::kTdxFatalGpaIndex];
        emit(FaultEvent{index, 0, -1, code, false,
                        fmt::format("TDG.VP.VMCALL<ReportFatalError>: error code 0x{:x}{}", code,
                                    (code >> 63) ? fmt::format(", GPA 0x{:x}", gpa) : "")});
        return false;
      }
      break;
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
  kvm::run_vcpus(td.vcpus(), limits, sink,
                 [&](kvm::KvmVcpu& v, uint32_t index, const kvm::Emit& emit) {
                   return handle_tdx_exit(v, index, emit, image, mem, mmio_read_);
                 });
}

}  // namespace tdsim
