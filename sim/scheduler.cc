#include "scheduler.h"

#include <algorithm>

namespace tdsim::sim {

void run_round_robin(const std::vector<std::unique_ptr<Vcpu>>& vcpus, const RunLimits& limits,
                     uint64_t slice, Watchdog& watchdog, const EventSink& sink) {
  using Clock = Watchdog::Clock;
  const Clock::time_point deadline = Clock::now() + limits.timeout;
  const Watchdog::Armed armed(watchdog, deadline);

  // Where every vCPU still running was: an endless loop is found from here.
  const auto budget = [&](BudgetExceededEvent::Kind kind, uint64_t limit) {
    BudgetExceededEvent b{kind, limit, {}};
    for (const auto& v : vcpus)
      if (!v->stopped())
        for (std::string& l : v->describe_position()) b.explanation.push_back(std::move(l));
    sink(b);
  };
  const auto wall_clock = [&] {
    budget(BudgetExceededEvent::Kind::kWallClock, static_cast<uint64_t>(limits.timeout.count()));
  };
  uint64_t used = 0;
  for (;;) {
    bool any_running = false;
    for (const auto& v : vcpus) {
      if (v->stopped()) continue;
      any_running = true;
      if (used >= limits.max_insns) {
        budget(BudgetExceededEvent::Kind::kInstructions, limits.max_insns);
        return;
      }
      if (watchdog.fired() || Clock::now() >= deadline) return wall_clock();
      const uint64_t before = v->executed();
      watchdog.set_running(v->engine());
      const Vcpu::SliceEnd end =
          v->run_slice(std::min(slice, limits.max_insns - used), sink, watchdog.fired_flag());
      watchdog.set_running(nullptr);
      used += v->executed() - before;
      if (end == Vcpu::SliceEnd::kCancelled) return wall_clock();
    }
    if (!any_running) return;
  }
}

}  // namespace tdsim::sim
