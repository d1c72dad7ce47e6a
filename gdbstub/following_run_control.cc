#include "following_run_control.h"

#include <chrono>

namespace tdsim::gdbstub {

namespace {

// How often a debugger waiting for a stop looks for gdb's Ctrl-C.
constexpr auto kInterruptPoll = std::chrono::milliseconds(50);
// A vCPU thread's sleep is ended by wake(); the limit only bounds a wake that never comes.
constexpr auto kTurnWaitLimit = std::chrono::milliseconds(1000);

}  // namespace

FollowingRunControl::FollowingRunControl(DebugTarget& target, EngineHooks hooks)
    : target_(target), hooks_(std::move(hooks)), step_off_(target.nr_vcpus(), false),
      granted_at_(target.nr_vcpus(), 0) {}

std::optional<FollowingRunControl::Grant> FollowingRunControl::grant_locked(uint32_t vcpu) const {
  switch (mode_) {
    case Mode::kHeld: return std::nullopt;
    case Mode::kFree: return Grant{};
    case Mode::kStepping:
      if (vcpu != step_vcpu_) return std::nullopt;
      return Grant{true, false};
    case Mode::kRunning:
      // Sitting on a breakpoint: one instruction without them, or it would stop there again.
      if (vcpu < step_off_.size() && step_off_[vcpu]) return Grant{true, false};
      return Grant{false, true};
  }
  return std::nullopt;
}

bool FollowingRunControl::wait_for_turn(uint32_t vcpu, const std::function<bool()>& leave) {
  for (;;) {
    // Read before the checks: a wake() after them ends the sleep at once.
    const uint32_t seen = word_.seen();
    if (leave()) return false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (grant_locked(vcpu)) return true;
    }
    word_.wait(seen, kTurnWaitLimit);
  }
}

std::optional<FollowingRunControl::Grant> FollowingRunControl::grant(uint32_t vcpu) {
  std::lock_guard<std::mutex> l(mu_);
  std::optional<Grant> g = grant_locked(vcpu);
  if (g && vcpu < granted_at_.size()) granted_at_[vcpu] = target_.executed(vcpu);
  return g;
}

void FollowingRunControl::hold_with(StopInfo s) {
  mode_ = Mode::kHeld;
  report_ = s;
  stopped_.notify_all();
}

void FollowingRunControl::turn_ended(uint32_t vcpu, const Grant& granted, DebugStop stop, bool instruction_pending) {
  std::lock_guard<std::mutex> l(mu_);
  if (vcpu >= granted_at_.size()) return;
  const bool watch = stop.kind == DebugStop::Kind::kWatchpoint;
  const StopInfo watched{Stop::kWatchpoint, vcpu, stop.watch, stop.watch_addr};
  // An instruction completed in this turn (not one handed out to the program, nor a turn
  // cut short before it ran), or the vCPU ended.
  const bool done = stop.kind == DebugStop::Kind::kEnded ||
                    (!instruction_pending && target_.executed(vcpu) > granted_at_[vcpu]);
  switch (mode_) {
    case Mode::kStepping:
      if (vcpu != step_vcpu_) return;
      if (watch)
        hold_with(watched);
      else if (done)
        hold_with({Stop::kStepped, vcpu});
      return;
    case Mode::kRunning:
      if (granted.single_step && done) step_off_[vcpu] = false;
      if (stop.kind == DebugStop::Kind::kBreakpoint) hold_with({Stop::kBreakpoint, vcpu});
      if (watch) hold_with(watched);
      return;
    case Mode::kHeld:
    case Mode::kFree: return;
  }
}

RunControl::StopInfo FollowingRunControl::wait_for_stop(uint32_t vcpu, const std::function<bool()>& interrupted) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (report_) {
      const StopInfo r = *report_;
      report_.reset();
      return r;
    }
    if (exiting_) return {Stop::kEnded, vcpu};
    stopped_.wait_for(l, kInterruptPoll);
    if (report_ || exiting_ || !interrupted) continue;
    l.unlock();
    const bool stop = interrupted();
    l.lock();
    if (!stop || report_ || exiting_) continue;
    mode_ = Mode::kHeld;
    l.unlock();
    // A slice in progress ends at its next block; the next request's lock_target()
    // waits for it.
    hooks_.stop_running();
    return {Stop::kInterrupted, vcpu};
  }
}

RunControl::StopInfo FollowingRunControl::step(uint32_t vcpu, const std::function<bool()>& interrupted) {
  {
    // The engines' lock first (as the vCPU threads take them): the target is read while
    // the program's threads may be changing the TD's memory.
    hooks_.lock();
    std::lock_guard<std::mutex> l(mu_);
    const bool now = exiting_ || vcpu >= target_.nr_vcpus() || target_.ended(vcpu);
    if (!now) {
      mode_ = Mode::kStepping;
      step_vcpu_ = vcpu;
      report_.reset();
    }
    hooks_.unlock();
    if (exiting_) return {Stop::kEnded, vcpu};
    if (now) return {Stop::kStepped, vcpu};
  }
  word_.wake();
  return wait_for_stop(vcpu, interrupted);
}

RunControl::StopInfo FollowingRunControl::resume(uint32_t vcpu, const std::function<bool()>& interrupted) {
  {
    hooks_.lock();
    std::lock_guard<std::mutex> l(mu_);
    if (!exiting_) {
      for (uint32_t i = 0; i < target_.nr_vcpus(); ++i)
        step_off_[i] = !target_.ended(i) && target_.has_breakpoint(rip_of(target_, i));
      mode_ = Mode::kRunning;
      report_.reset();
    }
    hooks_.unlock();
    if (exiting_) return {Stop::kEnded, vcpu};
  }
  word_.wake();
  return wait_for_stop(vcpu, interrupted);
}

int FollowingRunControl::exit_status() const {
  std::lock_guard<std::mutex> l(mu_);
  return exit_status_;
}

void FollowingRunControl::detach() {
  hooks_.lock();  // no slice reads the breakpoints while they go
  target_.clear_breakpoints_and_watchpoints();
  hooks_.unlock();
  {
    std::lock_guard<std::mutex> l(mu_);
    mode_ = Mode::kFree;
  }
  word_.wake();
}

void FollowingRunControl::program_exiting(int status) {
  std::lock_guard<std::mutex> l(mu_);
  exiting_ = true;
  exit_status_ = status;
  stopped_.notify_all();
}

}  // namespace tdsim::gdbstub
