#include "vcpu_runner.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

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

struct Shared {
  std::mutex sink_mu;  // events of all vCPUs reach the sink one at a time
  const EventSink* sink = nullptr;
  std::mutex done_mu;
  std::condition_variable done_cv;
  unsigned running = 0;
  std::atomic<bool> stop{false};
  std::exception_ptr error;  // first exception from a vCPU thread
};

void vcpu_thread(KvmVcpu& vcpu, uint32_t index, Shared& sh, const ExitHandler& handler,
                 bool& reached_terminal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kick_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  bool terminal = false;
  const Emit emit = [&](const Event& e) {
    std::lock_guard lock(sh.sink_mu);
    (*sh.sink)(e);
    if (is_terminal(e)) terminal = true;
    return terminal;
  };
  try {
    while (!terminal && !sh.stop.load(std::memory_order_acquire)) {
      if (::ioctl(vcpu.fd(), KVM_RUN, 0) < 0) {
        int err = errno;
        if (err == EINTR || err == EAGAIN) continue;  // kicked: the loop condition decides
        emit(FaultEvent{index, 0, -1, 0, false,
                        std::string("KVM_RUN: ") + std::strerror(err)});
        break;
      }
      if (!handler(vcpu, index, emit)) break;
    }
  } catch (...) {
    std::lock_guard lock(sh.done_mu);
    if (!sh.error) sh.error = std::current_exception();
    sh.stop.store(true, std::memory_order_release);
  }
  reached_terminal = terminal;
  std::lock_guard lock(sh.done_mu);
  --sh.running;
  sh.done_cv.notify_all();
}

}  // namespace

void run_vcpus(const std::vector<KvmVcpu*>& vcpus, const RunLimits& limits,
               const EventSink& sink, const ExitHandler& handler) {
  install_kick_handler();
  Shared sh;
  sh.sink = &sink;
  sh.running = static_cast<unsigned>(vcpus.size());
  // std::vector<bool> packs bits; each thread needs its own addressable flag.
  std::unique_ptr<bool[]> terminal(new bool[vcpus.size()]());
  std::vector<std::thread> threads;
  threads.reserve(vcpus.size());
  try {
    for (size_t i = 0; i < vcpus.size(); ++i)
      threads.emplace_back(vcpu_thread, std::ref(*vcpus[i]), static_cast<uint32_t>(i),
                           std::ref(sh), std::cref(handler), std::ref(terminal[i]));
  } catch (...) {
    // Thread creation failed: account for the threads that never started, stop the rest.
    std::lock_guard lock(sh.done_mu);
    sh.running -= static_cast<unsigned>(vcpus.size() - threads.size());
    sh.stop.store(true);
    if (!sh.error) sh.error = std::current_exception();
  }

  const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  bool timed_out = false;
  for (;;) {
    std::unique_lock lock(sh.done_mu);
    if (sh.running == 0) break;
    if (sh.stop.load()) {
      lock.unlock();
    } else if (!sh.done_cv.wait_until(lock, deadline, [&] { return sh.running == 0 || sh.stop.load(); })) {
      timed_out = true;
      sh.stop.store(true, std::memory_order_release);
      lock.unlock();
    } else {
      continue;
    }
    // Kick: immediate_exit makes a KVM_RUN that has not started yet return EINTR at once;
    // the signal interrupts one already in the guest. Repeat until every thread is out.
    for (size_t i = 0; i < threads.size(); ++i) {
      __atomic_store_n(&vcpus[i]->run()->immediate_exit, 1, __ATOMIC_SEQ_CST);
      pthread_kill(threads[i].native_handle(), kick_signal());
    }
    std::unique_lock again(sh.done_mu);
    sh.done_cv.wait_for(again, std::chrono::milliseconds(10), [&] { return sh.running == 0; });
  }
  for (auto& t : threads) t.join();
  for (KvmVcpu* v : vcpus) v->run()->immediate_exit = 0;

  if (sh.error) std::rethrow_exception(sh.error);
  if (timed_out) {
    bool any_unfinished = false;
    for (size_t i = 0; i < vcpus.size(); ++i) any_unfinished |= !terminal[i];
    if (any_unfinished)
      sink(BudgetExceededEvent{BudgetExceededEvent::Kind::kWallClock,
                               static_cast<uint64_t>(limits.timeout.count())});
  }
}

}  // namespace tdsim::kvm
