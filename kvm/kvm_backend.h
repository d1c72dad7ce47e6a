// The "kvm" backend: a plain (default-type) KVM VM started in the TD initial state,
// running the image's real stub from 0xfffffff0. A cross-check on real hardware
// virtualization for hosts without TDX. Depends on core/, ucall/host and the TD
// platform (tdx/), which answers the TDCALLs this KVM cannot execute.
//
// Adaptations (docs/running-on-tdx.md lists them):
// - The guest's CPUID cannot be set on every host, so it has MAXPHYADDR 36 and no
//   CPUID.LM: EFER is preset to the TD's 0x901, and the TDX shared bit is folded out of
//   the page tables (core/shared_bit_fold.h); every region is a memslot at its untagged GPA.
// - Only the wall-clock budget bounds a run; RunLimits::max_insns is not enforced.
// - Port I/O and HLT stop the vCPU (FaultEvent "unexpected port I/O", HaltEvent).
#pragma once
#include <string>

#include "core/backend.h"
#include "tdx/host_hooks.h"

namespace tdsim {

class KvmBackend : public Backend {
 public:
  KvmBackend() = default;
  // With a TD configuration (attributes, CPUID model) and host hooks for the platform.
  explicit KvmBackend(tdx::TdxConfig config) : config_(std::move(config)) {}
  std::string name() const override { return "kvm"; }
  void run(const TdImage& image, const RunLimits& limits, const EventSink& sink) override;
  // Answers KVM_EXIT_MMIO reads and emulated TDCALL MMIO reads.
  void set_mmio_read(MmioReadHandler handler) override { mmio_read_ = std::move(handler); }

 private:
  MmioReadHandler mmio_read_;
  tdx::TdxConfig config_;
};

}  // namespace tdsim
