// A word threads sleep on until another thread — or a signal handler — says something
// changed: a futex over a sequence number. wake() is async-signal-safe (one atomic add
// and one syscall), which a condition variable's notify is not; that is why the
// user-space KVM's KVM_RUN waits on one (a vCPU held for gdb or halted, woken by the
// program's signal as KVM's pending-signal check would be). Linux only.
#pragma once
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tdsim {

class WakeWord {
 public:
  // Read before checking the condition; wait(seen) then sleeps only if nothing woke the
  // word since, so a wake between the check and the sleep is never lost.
  uint32_t seen() const noexcept { return seq_.load(std::memory_order_acquire); }
  // Sleeps until a wake() after `seen`, a signal on this thread, or `limit` passed.
  void wait(uint32_t seen, std::chrono::milliseconds limit) const noexcept {
    timespec ts{static_cast<time_t>(limit.count() / 1000), static_cast<long>(limit.count() % 1000) * 1'000'000};
    // EAGAIN (woken already), EINTR (a signal), ETIMEDOUT: every caller re-checks.
    syscall(SYS_futex, reinterpret_cast<const uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
  }
  void wake() noexcept {
    seq_.fetch_add(1, std::memory_order_acq_rel);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "the futex is the atomic's word");
  std::atomic<uint32_t> seq_{0};
};

}  // namespace tdsim
