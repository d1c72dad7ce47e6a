#include "scheduler.h"

#include "core/round_robin.h"

namespace tdsim::sim {

namespace {

// The backend's vCPUs as the common scheduler sees them; the watchdog stops an engine
// mid-turn when the wall-clock deadline passes.
class EngineTurns : public TurnTaker {
 public:
  EngineTurns(const std::vector<std::unique_ptr<Vcpu>>& vcpus, Watchdog& watchdog)
      : vcpus_(vcpus), watchdog_(watchdog) {}
  uint32_t count() const override { return static_cast<uint32_t>(vcpus_.size()); }
  bool stopped(uint32_t i) const override { return vcpus_[i]->stopped(); }
  uint64_t executed(uint32_t i) const override { return vcpus_[i]->executed(); }
  std::vector<std::string> describe_position(uint32_t i) const override { return vcpus_[i]->describe_position(); }
  TurnEnd run_turn(uint32_t i, uint64_t max_insns, const EventSink& sink) override {
    if (watchdog_.fired()) return TurnEnd::kCancelled;
    Vcpu& v = *vcpus_[i];
    v.set_yield_at_pause(others_running(vcpus_, i));
    watchdog_.set_running(v.engine());
    const Vcpu::SliceEnd end = v.run_slice(max_insns, sink, watchdog_.fired_flag());
    watchdog_.set_running(nullptr);
    switch (end) {
      case Vcpu::SliceEnd::kCancelled: return TurnEnd::kCancelled;
      case Vcpu::SliceEnd::kStopped: return TurnEnd::kStopped;
      default: return TurnEnd::kExhausted;  // no breakpoints or watchpoints are set here
    }
  }

 private:
  const std::vector<std::unique_ptr<Vcpu>>& vcpus_;
  Watchdog& watchdog_;
};

}  // namespace

void run_round_robin(const std::vector<std::unique_ptr<Vcpu>>& vcpus, const RunLimits& limits,
                     uint64_t slice, Watchdog& watchdog, const EventSink& sink) {
  const Watchdog::Armed armed(watchdog, Watchdog::Clock::now() + limits.timeout);
  EngineTurns turns(vcpus, watchdog);
  RoundRobin(limits, slice).run(turns, sink);
}

}  // namespace tdsim::sim
