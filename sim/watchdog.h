// Wall-clock bound inside a scheduling slice: one long-lived thread per Session that
// calls uc_emu_stop on the engine currently running once the run's deadline passes.
// Unicorn's own uc_emu_start timeout starts (and joins) a polling thread on every call,
// far too slow for one call per slice. Unicorn-only; knows nothing of TDX.
#pragma once
#include <unicorn/unicorn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
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
  void set_running(uc_engine* uc) { running_.store(uc, std::memory_order_release); }
  bool fired() const { return fired_.load(std::memory_order_acquire); }
  const std::atomic<bool>& fired_flag() const { return fired_; }

 private:
  void loop();
  static constexpr std::chrono::milliseconds kRestopEvery{1};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool armed_ = false, quit_ = false;
  Clock::time_point deadline_{};
  Clock::time_point waiting_until_ = Clock::time_point::max();  // what the thread sleeps to
  std::atomic<uc_engine*> running_{nullptr};
  std::atomic<bool> fired_{false};
};

}  // namespace tdsim::sim
