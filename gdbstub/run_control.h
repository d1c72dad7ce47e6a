// Execution control for a debugger over any backend's debug target (core/debug_target.h),
// in one of two modes behind one interface (what GdbServer's conversation drives):
// * leading (`tdsim run --gdb`, this file): the debugger's thread runs the vCPUs itself,
//   stepping one vCPU one instruction or continuing all of them with the common
//   round-robin scheduler (core/round_robin.h) until a breakpoint, a watchpoint, an
//   interrupt, the end of the TD or a budget. Events go to the caller's sink as in a plain
//   run. Budgets cover the whole debugging session; the wall clock counts time spent
//   executing only (not the time gdb sits at a prompt).
// * following (`tdsim exec --gdb`, following_run_control.h): other threads run the vCPUs
//   (a KVM program's, inside its KVM_RUN); the debugger only grants or withholds their
//   turns and waits for the stops they report.
// Knows no engine and no socket.
#pragma once
#include <cstdint>
#include <functional>

#include "core/backend.h"
#include "core/debug_target.h"
#include "core/outcome.h"
#include "core/round_robin.h"

namespace tdsim::gdbstub {

// RIP of `vcpu` through the facet (0 if it cannot be read).
uint64_t rip_of(DebugTarget& t, uint32_t vcpu);

class RunControl {
 public:
  enum class Stop {
    kStepped,      // the vCPU ran one instruction (a TDCALL counts as one)
    kBreakpoint,   // a vCPU reached a breakpoint address (not yet executed)
    kWatchpoint,   // a vCPU's last instruction touched a watched range
    kInterrupted,  // `interrupted()` returned true between rounds
    kEnded,        // the TD ended (leading: every vCPU has; following: the program exits)
    kBudget,       // a budget ran out; a BudgetExceededEvent went to the sink
  };
  struct StopInfo {
    Stop why;
    uint32_t vcpu;  // the vCPU that stopped (kStepped, kBreakpoint, kWatchpoint), else the one asked for
    WatchKind watch = WatchKind::kWrite;  // kWatchpoint: which kind fired, at
    uint64_t watch_addr = 0;              // this address (the watchpoint's start)
  };

  RunControl() = default;
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;
  virtual ~RunControl() = default;

  virtual DebugTarget& target() = 0;
  // One instruction on `vcpu`; breakpoints do not stop a step, watchpoints do.
  // `interrupted` (may be empty) is polled while the step waits for another thread.
  virtual StopInfo step(uint32_t vcpu, const std::function<bool()>& interrupted = nullptr) = 0;
  // Every vCPU runs until one stops; `interrupted` (may be empty) is polled meanwhile. A
  // vCPU sitting on a breakpoint first steps off it. `vcpu` is reported for kInterrupted.
  virtual StopInfo resume(uint32_t vcpu, const std::function<bool()>& interrupted) = 0;
  // The exit status gdb is told after kEnded or kBudget (its W packet).
  virtual int exit_status() const = 0;
  // Held around each request that reads or writes the target between runs (registers,
  // memory, breakpoints): where other threads may change the TD's memory meanwhile, the
  // following mode excludes them. Nothing to hold when the debugger's thread is the only one.
  virtual void lock_target() {}
  virtual void unlock_target() {}
};

// The leading mode: the debugger's thread runs the vCPUs.
class LeadingRunControl final : public RunControl {
 public:
  // Instructions per vCPU turn while continuing.
  static constexpr uint64_t kDefaultSlice = 20'000;

  // `target` and `sink` must outlive this object.
  LeadingRunControl(DebugTarget& target, const RunLimits& limits, EventSink sink, uint64_t slice = kDefaultSlice);

  // Runs on this thread at once: nothing to interrupt.
  StopInfo step(uint32_t vcpu, const std::function<bool()>& interrupted = nullptr) override;
  // All running vCPUs in turn, `interrupted` polled between rounds.
  StopInfo resume(uint32_t vcpu, const std::function<bool()>& interrupted) override;
  // The run's outcome as tdsim exits with it (docs/architecture.md, the outcome table),
  // classified from the events as they stream past.
  int exit_status() const override { return exit_code(outcome_.outcome()); }
  DebugTarget& target() override { return target_; }

  bool ended() const;  // every vCPU stopped
  bool over_budget() const { return scheduler_.over_budget(); }
  uint64_t instructions() const { return scheduler_.instructions(); }

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
  OutcomeTracker outcome_;
  EventSink sink_;
  Turns turns_;
  RoundRobin scheduler_;
};

}  // namespace tdsim::gdbstub
