// The following mode of RunControl (run_control.h), for `tdsim exec --gdb`: the vCPUs
// run only on the threads that own them — a KVM program's threads, inside its KVM_RUN —
// never on the debugger's. The debugger grants or withholds their turns and waits for
// the stops they report:
// * a vCPU thread asks `wait_for_turn` before each slice (it blocks while gdb holds the
//   TD or steps another vCPU), takes `grant` under the lock that serialises the TD's
//   engines, runs the slice as granted and tells `turn_ended` how it went;
// * gdb's step grants one instruction to one vCPU, its continue grants every vCPU
//   slices with breakpoints on; the first vCPU that stops holds the TD again, whichever
//   thread ran it, and its stop is reported;
// * the TD starts held, so nothing runs before gdb says so (the reset vector);
// * detach() lets every vCPU run free, without breakpoints; program_exiting() ends a
//   wait with kEnded and the program's status.
// Waiting vCPU threads sleep on a WakeWord, so the owner of a vCPU can wake its thread
// from a signal handler (a signal ends a KVM_RUN even while gdb holds the vCPU).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "core/wake_word.h"
#include "run_control.h"

namespace tdsim::gdbstub {

class FollowingRunControl final : public RunControl {
 public:
  // What the TD's engine offers the debugger besides the facet: `lock`/`unlock` the
  // lock its vCPUs run slices under (and its memory changes take), `stop_running` asks a
  // slice in progress to end soon (any thread).
  struct EngineHooks {
    std::function<void()> lock, unlock, stop_running;
  };
  // One turn a vCPU may take.
  struct Grant {
    bool single_step = false;  // exactly one instruction (else a slice of the runner's size)
    bool breakpoints = false;  // stop before breakpoint addresses
  };

  // `target` must outlive this object and be the facet over the same vCPUs.
  FollowingRunControl(DebugTarget& target, EngineHooks hooks);

  // The debugger's side (RunControl).
  DebugTarget& target() override { return target_; }
  // Waits for the vCPU's thread to take the step in its KVM_RUN (a halted vCPU's never
  // comes: Ctrl-C, `interrupted`, ends the wait).
  StopInfo step(uint32_t vcpu, const std::function<bool()>& interrupted = nullptr) override;
  StopInfo resume(uint32_t vcpu, const std::function<bool()>& interrupted) override;
  int exit_status() const override;
  void lock_target() override { hooks_.lock(); }
  void unlock_target() override { hooks_.unlock(); }
  // gdb is gone: breakpoints and watchpoints cleared, every vCPU runs without them.
  void detach();
  // The program is exiting with `status`: a debugger waiting for a stop gets kEnded.
  void program_exiting(int status);

  // The vCPU threads' side.
  // Blocks until `vcpu` may take a turn (true) or `leave()` says its KVM_RUN must end
  // (false). `leave` is checked after every wake().
  bool wait_for_turn(uint32_t vcpu, const std::function<bool()>& leave);
  // Under the engines' lock, just before the slice: the turn `vcpu` may take now, or
  // nullopt if the TD was held meanwhile (wait again).
  std::optional<Grant> grant(uint32_t vcpu);
  // After the granted slice (still under the engines' lock): how it ended.
  // `instruction_pending`: it ended on an instruction handed out to the program (a TDCALL
  // that exits to userspace), which runs again — completes — in the next KVM_RUN; a step
  // or a step off a breakpoint is not done until then.
  void turn_ended(uint32_t vcpu, const Grant& granted, DebugStop stop, bool instruction_pending);
  // Wakes the waiting vCPU threads so they check `leave` again. Async-signal-safe.
  void wake() noexcept { word_.wake(); }

 private:
  enum class Mode { kHeld, kRunning, kStepping, kFree };
  std::optional<Grant> grant_locked(uint32_t vcpu) const;
  void hold_with(StopInfo s);  // the TD is held again; `s` is the stop to report
  // Waits for a reported stop or the program's exit; polls `interrupted` meanwhile.
  StopInfo wait_for_stop(uint32_t vcpu, const std::function<bool()>& interrupted);

  DebugTarget& target_;
  EngineHooks hooks_;
  WakeWord word_;
  mutable std::mutex mu_;
  std::condition_variable stopped_;  // the debugger waits here for report_ / exiting_
  Mode mode_ = Mode::kHeld;
  uint32_t step_vcpu_ = 0;
  std::vector<bool> step_off_;         // sitting on a breakpoint at resume: one step without them first
  std::vector<uint64_t> granted_at_;   // executed() of each vCPU when its last turn was granted
  std::optional<StopInfo> report_;
  bool exiting_ = false;
  int exit_status_ = 0;
};

}  // namespace tdsim::gdbstub
