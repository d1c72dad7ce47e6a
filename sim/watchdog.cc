#include "watchdog.h"

namespace tdsim::sim {

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->quit = true;
    // Whoever owns the engines closes them after this: the thread, which calls
    // uc_emu_stop only under the lock and only while not told to quit, never sees them.
    s_->running.store(nullptr, std::memory_order_release);
  }
  s_->cv.notify_all();
}

void Watchdog::arm(Clock::time_point deadline) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->deadline = deadline;
    s_->armed = true;
    s_->fired.store(false, std::memory_order_release);
    if (!started_) {
      // Detached: the thread keeps the state alive and ends when it sees `quit`; nothing
      // waits for it (a join made every run's end wait until the thread was scheduled).
      std::thread([s = s_] { loop(*s); }).detach();
      started_ = true;
    }
    // The thread needs waking only if it would sleep past this deadline. Runs that
    // follow each other with the same timeout move the deadline later: the thread,
    // waking at the old one, finds the new one and sleeps on, so a run costs no switch.
    wake = deadline < s_->waiting_until;
  }
  if (wake) s_->cv.notify_all();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->armed = false;
  s_->running.store(nullptr, std::memory_order_release);
}

void Watchdog::loop(State& s) {
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.quit) {
    if (!s.armed) {
      s.waiting_until = Clock::time_point::max();
      s.cv.wait(lock);
      continue;
    }
    s.waiting_until = s.deadline;
    if (s.cv.wait_until(lock, s.deadline) != std::cv_status::timeout) continue;
    if (!s.armed || Clock::now() < s.deadline) continue;
    s.fired.store(true, std::memory_order_release);
    s.armed = false;
    // uc_emu_stop is what Unicorn's own timeout thread calls on a running engine. A hook
    // that writes RIP (TDCALL emulation) makes the engine carry on and drop a stop that
    // came just before it; with no instruction count nothing else would end the slice,
    // so the stop is repeated until the engine is let go (set_running(nullptr), disarm).
    while (!s.quit && !s.armed) {
      uc_engine* uc = s.running.load(std::memory_order_acquire);
      if (!uc) break;
      uc_emu_stop(uc);
      s.cv.wait_for(lock, kRestopEvery);
    }
  }
}

}  // namespace tdsim::sim
