#include "watchdog.h"

namespace tdsim::sim {

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::arm(Clock::time_point deadline) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    deadline_ = deadline;
    armed_ = true;
    fired_.store(false, std::memory_order_release);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    // The thread needs waking only if it would sleep past this deadline. Runs that
    // follow each other with the same timeout move the deadline later: the thread,
    // waking at the old one, finds the new one and sleeps on, so a run costs no switch.
    wake = deadline < waiting_until_;
  }
  if (wake) cv_.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
  running_.store(nullptr, std::memory_order_release);
}

void Watchdog::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!quit_) {
    if (!armed_) {
      waiting_until_ = Clock::time_point::max();
      cv_.wait(lock);
      continue;
    }
    waiting_until_ = deadline_;
    if (cv_.wait_until(lock, deadline_) != std::cv_status::timeout) continue;
    if (!armed_ || Clock::now() < deadline_) continue;
    fired_.store(true, std::memory_order_release);
    armed_ = false;
    // uc_emu_stop is what Unicorn's own timeout thread calls on a running engine. A hook
    // that writes RIP (TDCALL emulation) makes the engine carry on and drop a stop that
    // came just before it; with no instruction count nothing else would end the slice,
    // so the stop is repeated until the engine is let go (set_running(nullptr), disarm).
    while (!quit_ && !armed_) {
      uc_engine* uc = running_.load(std::memory_order_acquire);
      if (!uc) break;
      uc_emu_stop(uc);
      cv_.wait_for(lock, kRestopEvery);
    }
  }
}

}  // namespace tdsim::sim
