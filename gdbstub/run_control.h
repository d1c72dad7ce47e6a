// Execution control for a debugger over any backend's debug target (core/debug_target.h):
// step one vCPU one instruction, or continue all of them with the common round-robin
// scheduler (core/round_robin.h) until a breakpoint, a watchpoint, an interrupt, the end
// of the TD or a budget. Events go to the caller's sink as in a plain run. Budgets cover
// the whole debugging session; the wall clock counts time spent executing only (not the
// time gdb sits at a prompt). Knows no engine and no socket.
#pragma once
#include <cstdint>
#include <functional>

#include "core/backend.h"
#include "core/debug_target.h"
#include "core/round_robin.h"

namespace tdsim::gdbstub {

class RunControl {
 public:
  enum class Stop {
    kStepped,      // the vCPU ran one instruction (a TDCALL counts as one)
    kBreakpoint,   // a vCPU reached a breakpoint address (not yet executed)
    kWatchpoint,   // a vCPU's last instruction touched a watched range
    kInterrupted,  // `interrupted()` returned true between rounds
    kEnded,        // every vCPU has ended (terminal events went to the sink)
    kBudget,       // a budget ran out; a BudgetExceededEvent went to the sink
  };
  struct StopInfo {
    Stop why;
    uint32_t vcpu;  // the vCPU that stopped (kStepped, kBreakpoint, kWatchpoint), else the one asked for
    WatchKind watch = WatchKind::kWrite;  // kWatchpoint: which kind fired, at
    uint64_t watch_addr = 0;              // this address (the watchpoint's start)
  };

  // Instructions per vCPU turn while continuing.
  static constexpr uint64_t kDefaultSlice = 20'000;

  // `target` and `sink` must outlive this object.
  RunControl(DebugTarget& target, const RunLimits& limits, EventSink sink, uint64_t slice = kDefaultSlice);
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // One instruction on `vcpu`; breakpoints do not stop a step, watchpoints do.
  StopInfo step(uint32_t vcpu);
  // All running vCPUs in turn, `interrupted` (may be empty) polled between rounds. A vCPU
  // sitting on a breakpoint first steps off it. `vcpu` is reported for kInterrupted.
  StopInfo resume(uint32_t vcpu, const std::function<bool()>& interrupted);

  bool ended() const;  // every vCPU stopped
  bool over_budget() const { return scheduler_.over_budget(); }
  uint64_t instructions() const { return scheduler_.instructions(); }
  DebugTarget& target() { return target_; }

 private:
  // The facet's vCPUs as the scheduler's turn takers; remembers the last watchpoint hit.
  class Turns : public TurnTaker {
   public:
    explicit Turns(DebugTarget& t) : t_(t) {}
    uint32_t count() const override { return t_.nr_vcpus(); }
    bool stopped(uint32_t v) const override { return t_.ended(v); }
    uint64_t executed(uint32_t v) const override { return t_.executed(v); }
    std::vector<std::string> describe_position(uint32_t v) const override { return t_.describe_position(v); }
    TurnEnd run_turn(uint32_t v, uint64_t max_insns, const EventSink& sink) override;

    bool breakpoints = true;
    DebugStop last{};

   private:
    DebugTarget& t_;
  };
  StopInfo stop_of(RoundRobin::Pause p) const;

  DebugTarget& target_;
  EventSink sink_;
  Turns turns_;
  RoundRobin scheduler_;
};

}  // namespace tdsim::gdbstub
