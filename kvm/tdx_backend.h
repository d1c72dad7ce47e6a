// The "kvm-tdx" backend: a real TD through the KVM TDX uAPI (Linux 6.16+ on a TDX host).
// Runs kvm::TdxVm (the launch plan executed, each vCPU a KvmStepper) with
// core/run_to_end.h. The TDX module sets the initial state, KVM handles the TDCALLs,
// and the userspace exits it makes (MMIO, port I/O, MapGPA, GetQuote,
// SetupEventNotifyInterrupt, GetTdVmCallInfo, ReportFatalError) are answered by the
// platform's VMM layer (tdx/vmm.h) through kvm/tdx_exits.h. No register access: TDs have
// none.
// Depends on core/, ucall/host and the kvm/ helpers; never on another backend.
#pragma once
#include <string>

#include "core/backend.h"
#include "tdx/host_hooks.h"

namespace tdsim {

class TdxBackend : public Backend {
 public:
  TdxBackend() = default;
  // With a TD configuration and host hooks for the VMM layer.
  explicit TdxBackend(tdx::TdxConfig config) : config_(std::move(config)) {}
  std::string name() const override { return "kvm-tdx"; }
  // Throws BackendError naming what the host lacks (e.g. the VM-types mask without
  // bit 5) or the first ioctl that failed, with errno and the SEAMCALL hw_error.
  void run(const TdImage& image, const RunLimits& limits, const EventSink& sink) override;
  // Answers KVM_EXIT_MMIO reads (TDG.VP.VMCALL<#VE.RequestMMIO> with the shared bit
  // stripped by KVM).
  void set_mmio_read(MmioReadHandler handler) override { mmio_read_ = std::move(handler); }

 private:
  MmioReadHandler mmio_read_;
  tdx::TdxConfig config_;
};

}  // namespace tdsim
