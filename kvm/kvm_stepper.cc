#include "kvm_stepper.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "kvm_sys.h"

namespace tdsim::kvm {

namespace {
void noop_handler(int) {}
}  // namespace

// A real-time signal only used to knock a vCPU thread out of KVM_RUN (it returns EINTR).
int kick_signal() { return SIGRTMIN + 3; }

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = noop_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
    sigaction(kick_signal(), &sa, nullptr);
  });
}

namespace {

using Clock = std::chrono::steady_clock;

// Delivers kick_signal() to the calling thread at `first` and every `interval` after it
// (at a deadline: every millisecond, so a KVM_RUN entered just after one signal still
// ends). Deleted when the turn ends: no stray signal interrupts the host's own system
// calls between turns.
class TurnTimer {
 public:
  TurnTimer(Clock::time_point first, std::chrono::nanoseconds interval) {
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kick_signal();
    ev._sigev_un._tid = static_cast<pid_t>(::gettid());
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0)
      throw BackendError(std::string("timer_create(CLOCK_MONOTONIC) for the run budget: ") + std::strerror(errno));
    const auto left = std::max<int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(first - Clock::now()).count(), 1);
    itimerspec its{};
    its.it_value.tv_sec = left / 1'000'000'000;
    its.it_value.tv_nsec = left % 1'000'000'000;
    its.it_interval.tv_sec = interval.count() / 1'000'000'000;
    its.it_interval.tv_nsec = interval.count() % 1'000'000'000;
    if (timer_settime(timer_, 0, &its, nullptr) != 0) {
      const int err = errno;
      timer_delete(timer_);
      throw BackendError(std::string("timer_settime for the run budget: ") + std::strerror(err));
    }
  }
  ~TurnTimer() { timer_delete(timer_); }
  TurnTimer(const TurnTimer&) = delete;
  TurnTimer& operator=(const TurnTimer&) = delete;

 private:
  timer_t timer_{};
};

// The kick signal reaches this thread (each thread's mask is its own; once per thread).
void unblock_kick_signal() {
  thread_local bool done = false;
  if (done) return;
  install_kick_handler();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  done = true;
}

}  // namespace

KvmStepper::KvmStepper(KvmVcpu& vcpu, uint32_t index, ExitHandler handler, const RunLimits& per_call,
                       bool registers_readable, BlockedProbe probe)
    : tdsim::Vcpu(per_call), v_(vcpu), index_(index), handler_(std::move(handler)),
      registers_readable_(registers_readable), probe_(std::move(probe)) {}

bool KvmStepper::ended() const {
  std::lock_guard lock(mu_);
  return ended_ && queue_.empty();
}

bool KvmStepper::resume() {
  std::lock_guard lock(mu_);
  if (!queue_.empty() || !resumable_) return false;
  kvm_regs regs{};
  checked_ioctl(v_.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  // A TDCALL stop (VMCALL<HLT>, ReportFatalError) leaves RIP on the TDCALL; a HLT exit
  // already points after the HLT.
  if (regs.rip == *resumable_) {
    regs.rip += 4;
    checked_ioctl(v_.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
  }
  resumable_.reset();
  ended_ = false;
  return true;
}

void KvmStepper::kick() {
  kicked_.store(true, std::memory_order_release);
  std::lock_guard lock(kick_mu_);
  if (!runner_) return;  // the next run_turn sees kicked_
  __atomic_store_n(&v_.run()->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(*runner_, kick_signal());
}

Event KvmStepper::pop() {
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

std::optional<Event> KvmStepper::run_turn(const Turn& turn) {
  std::lock_guard lock(mu_);
  if (!queue_.empty()) return pop();
  if (ended_) throw std::logic_error("Vcpu::run: vCPU " + std::to_string(index_) + " has ended");
  unblock_kick_signal();
  {
    std::lock_guard k(kick_mu_);
    runner_ = pthread_self();
  }
  struct Leave {
    KvmStepper& s;
    ~Leave() {
      std::lock_guard k(s.kick_mu_);
      s.runner_.reset();
      __atomic_store_n(&s.v_.run()->immediate_exit, 0, __ATOMIC_SEQ_CST);
    }
  } leave{*this};
  std::optional<TurnTimer> timer, probe_timer;
  if (turn.deadline != Clock::time_point::max()) timer.emplace(turn.deadline, std::chrono::milliseconds(1));
  if (probe_) probe_timer.emplace(Clock::now() + kProbePeriod, kProbePeriod);
  return step(turn);
}

std::optional<Event> KvmStepper::step(const Turn& turn) {
  const Emit emit = [this](const Event& e) {
    queue_.push_back(e);
    return is_terminal(e);
  };
  for (;;) {
    if (kicked_.exchange(false, std::memory_order_acq_rel)) return std::nullopt;
    if (turn.deadline != Clock::time_point::max() && Clock::now() >= turn.deadline) return std::nullopt;
    if (::ioctl(v_.fd(), KVM_RUN, 0) < 0) {
      const int err = errno;
      if (err == EINTR || err == EAGAIN) {
        // Kicked or the deadline: the loop decides. Otherwise the probe's timer: ask what
        // kept the vCPU in KVM_RUN.
        if (probe_ && !kicked_.load(std::memory_order_acquire) &&
            (turn.deadline == Clock::time_point::max() || Clock::now() < turn.deadline))
          if (std::optional<Event> e = probe_(v_, index_)) {
            ended_ = true;
            return e;
          }
        continue;
      }
      ended_ = true;
      return FaultEvent{index_, 0, -1, 0, false, std::string("KVM_RUN: ") + std::strerror(err)};
    }
    const bool go_on = handler_(v_, index_, emit);
    if (!go_on) {
      ended_ = true;
      if (registers_readable_ && !queue_.empty()) {
        const Event& last = queue_.back();
        if (const auto* h = std::get_if<HaltEvent>(&last)) resumable_ = h->rip;
        if (const auto* f = std::get_if<FaultEvent>(&last); f && f->vector < 0 && !f->triple_fault)
          resumable_ = f->rip;  // ReportFatalError: the host may choose to go on
      }
    }
    if (!queue_.empty()) return pop();
    if (!go_on) return FaultEvent{index_, 0, -1, 0, false, "kvm: the vCPU stopped without reporting why"};
  }
}

}  // namespace tdsim::kvm
