// The Unicorn backend: runs a TdImage on Unicorn 2 engines, one per vCPU, round-robin on
// one thread. What differs from a real TD is documented where it happens (reset_state.h,
// vcpu.cc, tdx_module.h); the main one: exceptions are not delivered through the guest's
// IDT — the vCPU stops with a FaultEvent (the KVM backend delivers them).
#pragma once
#include <cstdint>
#include <string>

#include "core/backend.h"
#include "tdx/host_hooks.h"
#include "trace.h"

namespace tdsim {

class UnicornBackend : public Backend {
 public:
  // slice_insns: instructions per vCPU turn (sim::Session::kDefaultSlice when 0).
  explicit UnicornBackend(uint64_t slice_insns = 0) : slice_(slice_insns) {}
  // With a TD configuration (attributes, CPUID model) and host hooks for the TDX module.
  explicit UnicornBackend(tdx::TdxConfig config, uint64_t slice_insns = 0)
      : slice_(slice_insns), config_(std::move(config)) {}
  std::string name() const override { return "unicorn"; }
  // One sim::Session, used once. For repeated runs of one image use sim::Session.
  void run(const TdImage& image, const RunLimits& limits, const EventSink& sink) override;
  // The TDX module stand-in's TDG.VP.VMCALL<#VE.RequestMMIO> reads (hooks.mmio_read).
  void set_mmio_read(MmioReadHandler handler) override { config_.hooks.mmio_read = std::move(handler); }
  // Trace lines and stub coverage for later runs (nullptr: off); `t` must outlive them.
  void set_trace(const sim::TraceOptions* t) { trace_ = t; }

 private:
  uint64_t slice_;
  tdx::TdxConfig config_;
  const sim::TraceOptions* trace_ = nullptr;
};

}  // namespace tdsim
