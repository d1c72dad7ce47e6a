// The debug-target facet (core/debug_target.h) on plain KVM: registers through
// KVM_GET/SET_REGS, SREGS and FPU; memory by GVA through the vCPU's page tables as they
// are in guest memory (diag/page_walk.h); a turn is single-stepping
// (KVM_SET_GUEST_DEBUG, one KVM_EXIT_DEBUG per instruction), so instruction counts,
// breakpoints (checked before each step) and budgets mean what they mean on Unicorn.
// Watchpoints are decided per step from the memory the instruction's operands (and
// PUSH/POP/CALL/RET's stack slot) touch (diag/memory_access.h), plus, for write and
// access watchpoints, a change of the watched bytes: the hardware debug registers are
// not used, since this host's KVM never reported a data breakpoint while single-stepping
// (DR6 showed BS only). Stepping costs one exit per instruction, which a debugger can
// afford.
// PlainKvmVm offers it; one thread drives it.
#pragma once
#include <deque>
#include <set>
#include <vector>

#include "core/debug_target.h"
#include "diag/memory_access.h"
#include "plain_machine.h"

namespace tdsim::kvm {

class KvmDebugTarget : public DebugTarget {
 public:
  // `machine` must outlive the facet; its TDCALLs go to the facet's log from now on.
  explicit KvmDebugTarget(PlainMachine& machine);

  const TdImage& image() const override { return m_.image(); }
  uint32_t nr_vcpus() const override { return static_cast<uint32_t>(m_.vcpus().size()); }
  const GuestMemory& memory() const override { return m_.memory(); }
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
  bool ended(uint32_t vcpu) const override { return state_.at(vcpu).ended; }
  uint64_t executed(uint32_t vcpu) const override { return state_.at(vcpu).executed; }
  std::vector<std::string> describe_position(uint32_t vcpu) const override;
  std::vector<std::string> tdcall_log(size_t max) const override;

  static constexpr size_t kTdcallLogLines = 256;
  static constexpr size_t kMaxWatchpoints = 16;
  static constexpr uint64_t kMaxWatchBytes = 4096;  // each is compared after every step

 private:
  struct Watch {
    WatchKind kind;
    uint64_t gva, len;
  };
  struct VcpuState {
    bool ended = false;
    uint64_t executed = 0;
  };
  // What the next instruction will touch, and the watched bytes before it runs.
  struct Pending {
    std::vector<diag::MemoryAccess> accesses;
    std::vector<std::vector<uint8_t>> before;
    std::optional<DebugStop> hit(const std::vector<diag::MemoryAccess>& accesses, const std::vector<Watch>& watches,
                                 const std::vector<std::vector<uint8_t>>& after) const;
  };
  Pending prepare(uint32_t vcpu);
  std::vector<std::vector<uint8_t>> snapshot(uint32_t vcpu);
  std::optional<uint64_t> translate(uint32_t vcpu, uint64_t gva) const;
  void arm_single_step(uint32_t vcpu);
  uint64_t rip(uint32_t vcpu) const;

  PlainMachine& m_;
  std::set<uint64_t> breakpoints_;
  std::vector<Watch> watchpoints_;
  std::vector<VcpuState> state_;
  std::deque<std::string> tdcalls_;
};

}  // namespace tdsim::kvm
