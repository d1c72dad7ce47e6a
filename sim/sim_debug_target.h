// The debug-target facet (core/debug_target.h) on the Unicorn mechanism: registers
// through uc_reg_*, memory by GVA through the vCPU's page tables (guest_virtual.h),
// breakpoints and watchpoints through the vCPU's code and memory hooks, one bounded
// turn through Vcpu::run_slice. SimVm offers it over its Session; the user-space KVM's
// engine (ukvm/) over the vCPUs of a program's TD. One thread at a time drives it.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <set>
#include <vector>

#include "core/debug_target.h"
#include "session.h"

namespace tdsim::sim {

// How a slice ended, as the facet reports a turn.
DebugStop debug_stop(Vcpu::SliceEnd end, const Vcpu& v);

class SimDebugTarget : public DebugTarget {
 public:
  // A host write into guest memory that also drops the vCPUs' translated code there
  // (Session::write_guest).
  using GuestWriter = std::function<bool(uint64_t gpa, const void* src, uint64_t len)>;
  // `session` must outlive the facet; its vCPUs report their TDCALLs to the log from now on.
  explicit SimDebugTarget(Session& session);
  // The same over vCPUs someone else holds: `image`, `memory` and the vCPUs must outlive
  // the facet.
  SimDebugTarget(const TdImage& image, const GuestMemory& memory, std::vector<Vcpu*> vcpus, GuestWriter write_guest);

  const TdImage& image() const override { return image_; }
  uint32_t nr_vcpus() const override { return static_cast<uint32_t>(vcpus_.size()); }
  const GuestMemory& memory() const override { return memory_; }
  bool read_register(uint32_t vcpu, unsigned reg, std::span<uint8_t> out) override;
  bool write_register(uint32_t vcpu, unsigned reg, std::span<const uint8_t> in) override;
  uint64_t read_memory(uint32_t vcpu, uint64_t gva, void* dst, uint64_t len) override;
  bool write_memory(uint32_t vcpu, uint64_t gva, const void* src, uint64_t len) override;
  void add_breakpoint(uint64_t gva) override { breakpoints_.insert(gva); }
  bool remove_breakpoint(uint64_t gva) override { return breakpoints_.erase(gva) != 0; }
  bool has_breakpoint(uint64_t gva) const override { return breakpoints_.count(gva) != 0; }
  bool add_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) override;
  bool remove_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) override;
  void clear_breakpoints_and_watchpoints() override;
  DebugStop run(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints, const EventSink& sink) override;
  // run() with the engine's own slice end (a deferred TDCALL, an event, `cancel`), for a
  // caller that runs the vCPU itself (the user-space KVM's KVM_RUN under gdb).
  Vcpu::SliceEnd run_slice(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints, const EventSink& sink,
                           const std::atomic<bool>& cancel);
  bool ended(uint32_t vcpu) const override { return vcpus_.at(vcpu)->stopped(); }
  uint64_t executed(uint32_t vcpu) const override { return vcpus_.at(vcpu)->executed(); }
  std::vector<std::string> describe_position(uint32_t vcpu) const override {
    return vcpus_.at(vcpu)->describe_position();
  }
  std::vector<std::string> tdcall_log(size_t max) const override;

  // Lines the TDCALL log keeps (the oldest go first).
  static constexpr size_t kTdcallLogLines = 256;

 private:
  void install_watchpoints();
  GvaTranslator gva_translator(uint32_t vcpu) const;

  const TdImage& image_;
  const GuestMemory& memory_;
  std::vector<Vcpu*> vcpus_;
  GuestWriter write_guest_;
  std::set<uint64_t> breakpoints_;
  std::vector<Vcpu::Watch> watchpoints_;
  std::deque<std::string> tdcalls_;
  // run_slice's cancel flag: never set (a turn is bounded by its instruction count; the
  // scheduler checks the wall clock between turns).
  const std::atomic<bool> never_{false};
};

}  // namespace tdsim::sim
