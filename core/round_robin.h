// The one round-robin scheduler: vCPUs run in index order, a bounded number of
// instructions per turn, on one thread, until every vCPU ended, a budget ran out, or the
// caller wants control back (a breakpoint, a watchpoint, an interrupt between rounds).
// The Unicorn backend runs a TD to its end with it (sim/scheduler.cc); the gdb stub
// continues and steps any backend's debug target with it (gdbstub/). Fixed turns keep
// the event order of an image the same from run to run. Knows no engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backend.h"

namespace tdsim {

// What the scheduler needs of a mechanism's vCPUs.
class TurnTaker {
 public:
  enum class TurnEnd {
    kExhausted,   // ran the turn's instructions
    kStopped,     // the vCPU ended (its terminal event went to the sink)
    kCancelled,   // the mechanism's wall-clock watchdog stopped it mid-turn
    kBreakpoint,  // stopped before a breakpoint address
    kWatchpoint,  // stopped after an instruction touched a watched range
  };
  virtual ~TurnTaker() = default;
  virtual uint32_t count() const = 0;
  virtual bool stopped(uint32_t vcpu) const = 0;
  virtual uint64_t executed(uint32_t vcpu) const = 0;  // instructions run so far
  virtual TurnEnd run_turn(uint32_t vcpu, uint64_t max_insns, const EventSink& sink) = 0;
  virtual std::vector<std::string> describe_position(uint32_t vcpu) const = 0;
};

class RoundRobin {
 public:
  enum class Why { kEnded, kBudget, kBreakpoint, kWatchpoint, kInterrupted, kTurn };
  struct Pause {
    Why why;
    uint32_t vcpu;  // the vCPU that hit a breakpoint / watchpoint / ran a turn
  };

  // Budgets over the scheduler's whole life: limits.max_insns summed over vCPUs and
  // every turn; limits.timeout against the time spent inside turns (a debugger's pauses
  // are not counted). `slice` = instructions per turn.
  RoundRobin(const RunLimits& limits, uint64_t slice);

  // Rounds of turns until every vCPU stopped (kEnded), a budget ran out (kBudget, one
  // BudgetExceededEvent to `sink`), a turn ended at a breakpoint or watchpoint, or
  // `interrupted` (may be empty) returned true after a round.
  Pause run(TurnTaker& vcpus, const EventSink& sink, const std::function<bool()>& interrupted = {});
  // One turn of `max_insns` on one vCPU, under the same budgets: kTurn after it, or
  // kEnded / kBudget / kBreakpoint / kWatchpoint.
  Pause turn(TurnTaker& vcpus, uint32_t vcpu, uint64_t max_insns, const EventSink& sink);

  uint64_t instructions() const { return used_; }
  bool over_budget() const { return budget_reported_; }

 private:
  static bool all_stopped(const TurnTaker& vcpus);
  // False (after reporting the budget once) when a budget is used up.
  bool budget_left(TurnTaker& vcpus, const EventSink& sink);
  void report(TurnTaker& vcpus, const EventSink& sink, BudgetExceededEvent::Kind kind, uint64_t limit);
  TurnTaker::TurnEnd timed_turn(TurnTaker& vcpus, uint32_t vcpu, uint64_t max_insns, const EventSink& sink);

  RunLimits limits_;
  uint64_t slice_;
  uint64_t used_ = 0;
  std::chrono::steady_clock::duration busy_{};
  bool budget_reported_ = false;
};

}  // namespace tdsim
