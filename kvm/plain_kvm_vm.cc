#include "plain_kvm_vm.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "kvm_sys.h"

namespace tdsim::kvm {

namespace {

// A timer that sends kick_signal() to the calling thread at the deadline and every
// millisecond after it, so a KVM_RUN entered just after one signal still ends.
class RunTimer {
 public:
  explicit RunTimer(std::chrono::milliseconds timeout) {
    install_kick_handler();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kick_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kick_signal();
    ev._sigev_un._tid = static_cast<pid_t>(::gettid());
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0)
      throw BackendError(std::string("timer_create(CLOCK_MONOTONIC) for the run budget: ") + std::strerror(errno));
    itimerspec its{};
    const auto ms = std::max<int64_t>(timeout.count(), 1);
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1'000'000;
    its.it_interval.tv_nsec = 1'000'000;
    if (timer_settime(timer_, 0, &its, nullptr) != 0) {
      const int err = errno;
      timer_delete(timer_);
      throw BackendError(std::string("timer_settime for the run budget: ") + std::strerror(err));
    }
  }
  ~RunTimer() { timer_delete(timer_); }
  RunTimer(const RunTimer&) = delete;
  RunTimer& operator=(const RunTimer&) = delete;

 private:
  timer_t timer_{};
};

}  // namespace

class PlainKvmVm::Stepper : public tdsim::Vcpu {
 public:
  Stepper(PlainKvmVm& vm, KvmVcpu& v, uint32_t index) : vm_(vm), v_(v), index_(index) {}

  uint32_t index() const override { return index_; }
  bool ended() const override { return ended_ && queue_.empty(); }

  bool resume() override {
    std::lock_guard<std::mutex> lock(vm_.run_lock_);
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

  Event run() override {
    if (!queue_.empty()) return pop();
    if (ended_) throw std::logic_error("Vcpu::run: vCPU " + std::to_string(index_) + " has ended");
    std::lock_guard<std::mutex> lock(vm_.run_lock_);
    const RunLimits& limits = vm_.options_.limits;
    const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
    RunTimer timer(limits.timeout);
    const Emit emit = [this](const Event& e) {
      queue_.push_back(e);
      return is_terminal(e);
    };
    for (;;) {
      if (std::chrono::steady_clock::now() >= deadline)
        return BudgetExceededEvent{BudgetExceededEvent::Kind::kWallClock,
                                   static_cast<uint64_t>(limits.timeout.count()), {}};
      if (::ioctl(v_.fd(), KVM_RUN, 0) < 0) {
        const int err = errno;
        if (err == EINTR || err == EAGAIN) continue;
        ended_ = true;
        return FaultEvent{index_, 0, -1, 0, false, std::string("KVM_RUN: ") + std::strerror(err)};
      }
      const bool go_on = vm_.machine_->handle_exit(v_, index_, emit);
      if (!go_on) {
        ended_ = true;
        if (!queue_.empty()) {
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

 private:
  Event pop() {
    Event e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }

  PlainKvmVm& vm_;
  KvmVcpu& v_;
  uint32_t index_;
  std::deque<Event> queue_;
  bool ended_ = false;
  std::optional<uint64_t> resumable_;  // RIP of the stop the host may resume from
};


PlainKvmVm::PlainKvmVm(const TdImage& image, const VmOptions& options, ::tdsim::tdx::TdxConfig config)
    : mmio_read_(std::make_shared<MmioReadHandler>()),
      machine_(std::make_unique<PlainMachine>(image, ::tdsim::tdx::forward_mmio_reads(std::move(config), mmio_read_))),
      options_(options) {
  for (uint32_t i = 0; i < machine_->vcpus().size(); ++i)
    vcpus_.push_back(std::make_unique<Stepper>(*this, *machine_->vcpus()[i], i));
}

PlainKvmVm::~PlainKvmVm() = default;

tdsim::Vcpu& PlainKvmVm::vcpu(uint32_t index) { return *vcpus_.at(index); }

bool PlainKvmVm::read(uint64_t gpa, void* dst, uint64_t len) const { return machine_->memory().read(gpa, dst, len); }

// KVM runs guest code from the memory itself: a write is seen at once, code included.
bool PlainKvmVm::write(uint64_t gpa, const void* src, uint64_t len) {
  std::lock_guard<std::mutex> lock(run_lock_);
  return machine_->memory().write(gpa, src, len);
}

void PlainKvmVm::set_mmio_read(MmioReadHandler handler) {
  std::lock_guard<std::mutex> lock(run_lock_);
  *mmio_read_ = std::move(handler);
}

}  // namespace tdsim::kvm
