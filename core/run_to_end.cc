#include "run_to_end.h"

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "round_robin.h"

namespace tdsim {

namespace {

using Clock = std::chrono::steady_clock;

// The VM's vCPUs as the round-robin scheduler sees them: a turn is run_turn() calls
// until the turn's instructions are used up, the vCPU ends, or the deadline passes.
class VmTurns : public TurnTaker {
 public:
  VmTurns(Vm& vm, Clock::time_point deadline) : vm_(vm), deadline_(deadline) {}
  uint32_t count() const override { return vm_.nr_vcpus(); }
  bool stopped(uint32_t i) const override { return vm_.vcpu(i).ended(); }
  uint64_t executed(uint32_t i) const override { return vm_.vcpu(i).executed(); }
  std::vector<std::string> describe_position(uint32_t i) const override { return vm_.vcpu(i).describe_position(); }
  TurnEnd run_turn(uint32_t i, uint64_t max_insns, const EventSink& sink) override {
    Vcpu& v = vm_.vcpu(i);
    const uint64_t start = v.executed();
    for (;;) {
      // With the turn used up, run_turn(0) still hands out the events the turn queued,
      // so they reach the sink before the next vCPU's turn, as they happened.
      const uint64_t used = v.executed() - start;
      const uint64_t left = max_insns == UINT64_MAX ? max_insns : used >= max_insns ? 0 : max_insns - used;
      std::optional<Event> e = v.run_turn(Turn{left, deadline_, /*events_may_queue=*/true, others_wait(i)});
      if (!e) {
        const bool ran_out = v.executed() - start >= max_insns;
        return !ran_out && Clock::now() >= deadline_ ? TurnEnd::kCancelled : TurnEnd::kExhausted;
      }
      sink(*e);
      if (v.ended()) return TurnEnd::kStopped;
    }
  }

 private:
  bool others_wait(uint32_t i) const {
    for (uint32_t j = 0; j < vm_.nr_vcpus(); ++j)
      if (j != i && !vm_.vcpu(j).ended()) return true;
    return false;
  }
  Vm& vm_;  // vcpu() is not const; the scheduler's const queries do not change it
  Clock::time_point deadline_;
};

void take_turns(Vm& vm, const RunLimits& limits, uint64_t slice, const EventSink& sink) {
  VmTurns turns(vm, Clock::now() + limits.timeout);
  RoundRobin(limits, slice).run(turns, sink);
}

// One thread per vCPU. The calling thread waits for them, and at the deadline or the
// first exception kicks every vCPU until all threads are out.
void run_concurrently(Vm& vm, const RunLimits& limits, const EventSink& sink) {
  const uint32_t n = vm.nr_vcpus();
  std::mutex mu;  // guards everything below and serialises the sink
  std::condition_variable cv;
  uint32_t running = n;
  bool stop = false;
  std::exception_ptr error;

  auto body = [&](uint32_t i) {
    Vcpu& v = vm.vcpu(i);
    try {
      while (!v.ended()) {
        std::optional<Event> e = v.run_turn(Turn{.events_may_queue = true});
        if (!e) break;  // kicked: the deadline passed or another vCPU failed
        std::lock_guard lock(mu);
        if (error) break;
        sink(*e);  // an event that raced with the deadline still happened: report it
        if (stop) break;
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      stop = true;
    }
    std::lock_guard lock(mu);
    --running;
    cv.notify_all();
  };

  std::vector<std::thread> threads;
  threads.reserve(n);
  try {
    for (uint32_t i = 0; i < n; ++i) threads.emplace_back(body, i);
  } catch (...) {
    std::lock_guard lock(mu);
    running -= n - static_cast<uint32_t>(threads.size());  // never started
    stop = true;
    if (!error) error = std::current_exception();
  }

  const Clock::time_point deadline = Clock::now() + limits.timeout;
  bool timed_out = false;
  {
    std::unique_lock lock(mu);
    while (running > 0) {
      if (!stop && !cv.wait_until(lock, deadline, [&] { return running == 0 || stop; })) {
        timed_out = true;
        stop = true;
      }
      if (running == 0) break;
      // Kick until every thread is out: a kick that lands between two KVM_RUNs is
      // remembered by the vCPU, one inside KVM_RUN interrupts it.
      lock.unlock();
      for (uint32_t i = 0; i < static_cast<uint32_t>(threads.size()); ++i) vm.vcpu(i).kick();
      lock.lock();
      cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return running == 0; });
    }
  }
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  if (!timed_out) return;
  BudgetExceededEvent b{BudgetExceededEvent::Kind::kWallClock, static_cast<uint64_t>(limits.timeout.count()), {}};
  bool unfinished = false;
  for (uint32_t i = 0; i < n; ++i) {
    if (vm.vcpu(i).ended()) continue;
    unfinished = true;
    for (std::string& l : vm.vcpu(i).describe_position()) b.explanation.push_back(std::move(l));
  }
  if (unfinished) sink(b);
}

}  // namespace

void run_to_end(Vm& vm, const RunLimits& limits, uint64_t slice, const EventSink& sink) {
  if (vm.concurrent_vcpus())
    run_concurrently(vm, limits, sink);
  else
    take_turns(vm, limits, slice, sink);
  for (const Event& e : vm.end_of_run()) sink(e);
}

}  // namespace tdsim
