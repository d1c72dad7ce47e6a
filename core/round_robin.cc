#include "round_robin.h"

#include <algorithm>

namespace tdsim {

RoundRobin::RoundRobin(const RunLimits& limits, uint64_t slice) : limits_(limits), slice_(slice ? slice : 1) {}

bool RoundRobin::all_stopped(const TurnTaker& vcpus) {
  for (uint32_t i = 0; i < vcpus.count(); ++i)
    if (!vcpus.stopped(i)) return false;
  return true;
}

void RoundRobin::report(TurnTaker& vcpus, const EventSink& sink, BudgetExceededEvent::Kind kind, uint64_t limit) {
  if (budget_reported_) return;
  budget_reported_ = true;
  // Where every vCPU still running was: an endless loop is found from here.
  BudgetExceededEvent b{kind, limit, {}};
  for (uint32_t i = 0; i < vcpus.count(); ++i)
    if (!vcpus.stopped(i))
      for (std::string& l : vcpus.describe_position(i)) b.explanation.push_back(std::move(l));
  sink(b);
}

bool RoundRobin::budget_left(TurnTaker& vcpus, const EventSink& sink) {
  if (budget_reported_) return false;
  if (used_ >= limits_.max_insns) {
    report(vcpus, sink, BudgetExceededEvent::Kind::kInstructions, limits_.max_insns);
    return false;
  }
  if (busy_ >= limits_.timeout) {
    report(vcpus, sink, BudgetExceededEvent::Kind::kWallClock, static_cast<uint64_t>(limits_.timeout.count()));
    return false;
  }
  return true;
}

TurnTaker::TurnEnd RoundRobin::timed_turn(TurnTaker& vcpus, uint32_t vcpu, uint64_t max_insns,
                                          const EventSink& sink) {
  const uint64_t before = vcpus.executed(vcpu);
  const auto t0 = std::chrono::steady_clock::now();
  // Without an instruction budget a turn is as long as asked (UINT64_MAX: no count).
  const uint64_t left = limits_.max_insns == UINT64_MAX ? max_insns : std::min(max_insns, limits_.max_insns - used_);
  const TurnTaker::TurnEnd end = vcpus.run_turn(vcpu, left, sink);
  busy_ += std::chrono::steady_clock::now() - t0;
  used_ += vcpus.executed(vcpu) - before;
  if (end == TurnTaker::TurnEnd::kCancelled)
    report(vcpus, sink, BudgetExceededEvent::Kind::kWallClock, static_cast<uint64_t>(limits_.timeout.count()));
  return end;
}

RoundRobin::Pause RoundRobin::turn(TurnTaker& vcpus, uint32_t vcpu, uint64_t max_insns, const EventSink& sink) {
  if (all_stopped(vcpus)) return {Why::kEnded, vcpu};
  if (vcpus.stopped(vcpu)) return {Why::kTurn, vcpu};  // an ended vCPU stays where it is
  if (!budget_left(vcpus, sink)) return {Why::kBudget, vcpu};
  const TurnTaker::TurnEnd end = timed_turn(vcpus, vcpu, max_insns, sink);
  if (all_stopped(vcpus)) return {Why::kEnded, vcpu};
  if (budget_reported_) return {Why::kBudget, vcpu};
  if (end == TurnTaker::TurnEnd::kBreakpoint) return {Why::kBreakpoint, vcpu};
  if (end == TurnTaker::TurnEnd::kWatchpoint) return {Why::kWatchpoint, vcpu};
  return {Why::kTurn, vcpu};
}

RoundRobin::Pause RoundRobin::run(TurnTaker& vcpus, const EventSink& sink, const std::function<bool()>& interrupted) {
  // Turns interleave vCPUs and stop at the instruction budget; a lone vCPU with neither
  // a budget nor a caller to look in between rounds runs one turn to its end, which
  // asks the mechanism for no instruction count at all.
  const uint64_t slice =
      vcpus.count() == 1 && limits_.max_insns == UINT64_MAX && !interrupted ? UINT64_MAX : slice_;
  for (;;) {
    bool any_running = false;
    for (uint32_t i = 0; i < vcpus.count(); ++i) {
      if (vcpus.stopped(i)) continue;
      any_running = true;
      if (!budget_left(vcpus, sink)) return {Why::kBudget, i};
      switch (timed_turn(vcpus, i, slice, sink)) {
        case TurnTaker::TurnEnd::kCancelled: return {Why::kBudget, i};
        case TurnTaker::TurnEnd::kBreakpoint: return {Why::kBreakpoint, i};
        case TurnTaker::TurnEnd::kWatchpoint: return {Why::kWatchpoint, i};
        case TurnTaker::TurnEnd::kExhausted:
        case TurnTaker::TurnEnd::kStopped: break;
      }
    }
    if (!any_running) return {Why::kEnded, 0};
    if (interrupted && interrupted()) return {Why::kInterrupted, 0};
  }
}

}  // namespace tdsim
