// One KVM vCPU as the host API's Vcpu (core/vm.h): KVM_RUN, hand each exit to the
// backend's exit handler, return its events one at a time. The plain ("kvm") and the TDX
// ("kvm-tdx") backends differ only in the handler and the blocked-run probe. Bounded by a
// POSIX timer that knocks the thread out of KVM_RUN at a turn's deadline, or by kick()
// (immediate_exit + signal) from another thread; with a probe, a second timer knocks it
// out every kProbePeriod so the probe can look at a vCPU KVM keeps blocked. Knows no TD
// layout.
#pragma once
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "core/vm.h"
#include "kvm_vm.h"

namespace tdsim::kvm {

// Emits one event; returns true once this vCPU has emitted a terminal event.
using Emit = std::function<bool(const Event&)>;

// Asked when KVM_RUN came back with EINTR and nothing of the host's ended it (no kick,
// deadline not reached): the state a vCPU blocked inside KVM_RUN was in, as an event that
// stops the vCPU, or nullopt to enter KVM_RUN again. A TD's HLT is only seen this way.
using BlockedProbe = std::function<std::optional<Event>(KvmVcpu& vcpu, uint32_t index)>;

// Called after each KVM_RUN that returned to userspace. Decodes run->exit_reason, emits
// events, fixes up state for re-entry; returns false to stop this vCPU (after emitting a
// terminal event that says why).
using ExitHandler = std::function<bool(KvmVcpu& vcpu, uint32_t index, const Emit& emit)>;

// The real-time signal that knocks a thread out of KVM_RUN (EINTR), and its no-op
// handler, installed once per process.
int kick_signal();
void install_kick_handler();

class KvmStepper : public tdsim::Vcpu {
 public:
  // `registers_readable`: KVM_GET/SET_REGS work (plain KVM), so the host may resume()
  // after a HLT or ReportFatalError stop; a TD's registers are hidden and it may not.
  // `probe` may be empty (plain KVM: a HLT is an exit).
  KvmStepper(KvmVcpu& vcpu, uint32_t index, ExitHandler handler, const RunLimits& per_call,
             bool registers_readable, BlockedProbe probe = {});

  // How often a vCPU with a probe is knocked out of KVM_RUN to be looked at: the delay
  // before a blocked vCPU is seen, against one signal and ioctl per period while it runs.
  static constexpr std::chrono::milliseconds kProbePeriod{20};

  uint32_t index() const override { return index_; }
  bool ended() const override;
  bool resume() override;
  std::optional<Event> run_turn(const Turn& turn) override;
  void kick() override;
  uint64_t executed() const override { return 0; }  // KVM cannot count guest instructions
  std::vector<std::string> describe_position() const override { return {}; }

 private:
  Event pop();
  std::optional<Event> step(const Turn& turn);

  KvmVcpu& v_;
  uint32_t index_;
  ExitHandler handler_;
  bool registers_readable_;
  BlockedProbe probe_;
  mutable std::mutex mu_;      // one run_turn / resume at a time on this vCPU
  std::deque<Event> queue_;    // events of one exit beyond the first (a terminal one last)
  bool ended_ = false;
  std::optional<uint64_t> resumable_;  // RIP of the stop the host may resume from
  std::mutex kick_mu_;                 // guards runner_ against kick()
  std::optional<pthread_t> runner_;    // the thread inside run_turn, if any
  std::atomic<bool> kicked_{false};
};

}  // namespace tdsim::kvm
