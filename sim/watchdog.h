// Wall-clock bound inside a scheduling slice: one long-lived thread per Session that
// calls uc_emu_stop on the engine currently running once the run's deadline passes.
// Unicorn's own uc_emu_start timeout starts (and joins) a polling thread on every call,
// far too slow for one call per slice. The thread is let go, not joined, when the
// watchdog goes: it shares its state with the watchdog and ends on its own, so a run
// never waits for it to be scheduled (a cold `tdsim run` waited for that at exit).
// Unicorn-only; knows nothing of TDX.
#pragma once
#include <unicorn/unicorn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace tdsim::sim {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  Watchdog() = default;
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(Clock::time_point deadline);
  void disarm();

  // Armed until the end of a scope, on every exit path (a sink may throw).
  class Armed {
   public:
    Armed(Watchdog& w, Clock::time_point deadline) : w_(w) { w_.arm(deadline); }
    ~Armed() { w_.disarm(); }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

   private:
    Watchdog& w_;
  };
  // The engine the scheduler is about to run (nullptr between slices). A stop that races
  // with a slice boundary is caught by the scheduler's own clock check after the slice.
  void set_running(uc_engine* uc) { s_->running.store(uc, std::memory_order_release); }
  bool fired() const { return s_->fired.load(std::memory_order_acquire); }
  const std::atomic<bool>& fired_flag() const { return s_->fired; }

 private:
  // Everything the thread touches; it holds its own reference, so the state outlives
  // the watchdog until the thread has seen `quit` and ended.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool armed = false, quit = false;
    Clock::time_point deadline{};
    Clock::time_point waiting_until = Clock::time_point::max();  // what the thread sleeps to
    std::atomic<uc_engine*> running{nullptr};
    std::atomic<bool> fired{false};
  };
  static void loop(State& s);
  static constexpr std::chrono::milliseconds kRestopEvery{1};
  std::shared_ptr<State> s_ = std::make_shared<State>();
  bool started_ = false;
};

}  // namespace tdsim::sim
