#include "td_driver.h"

#include <cstring>

#include "tdsim/abi/tdx.h"

namespace tdsim::gdbstub {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t rip_of(sim::Vcpu& v) {
  uint64_t r = 0;
  uc_reg_read(v.engine(), UC_X86_REG_RIP, &r);
  return r;
}

}  // namespace

TdDriver::TdDriver(sim::Session& session, const RunLimits& limits, EventSink sink, uint64_t slice)
    : session_(session), limits_(limits), sink_(std::move(sink)), slice_(slice ? slice : 1) {}

bool TdDriver::ended() const {
  for (uint32_t i = 0; i < session_.nr_vcpus(); ++i)
    if (!session_.vcpu(i).stopped()) return false;
  return true;
}

void TdDriver::code_written(uint64_t addr, uint64_t len) {
  for (uint32_t i = 0; i < session_.nr_vcpus(); ++i)
    uc_ctl_remove_cache(session_.vcpu(i).engine(), addr, addr + len);
}

bool TdDriver::budget_left() {
  if (budget_reported_) return false;
  BudgetExceededEvent b{};
  if (used_ >= limits_.max_insns) {
    b.kind = BudgetExceededEvent::Kind::kInstructions;
    b.limit = limits_.max_insns;
  } else if (busy_ >= limits_.timeout) {
    b.kind = BudgetExceededEvent::Kind::kWallClock;
    b.limit = static_cast<uint64_t>(limits_.timeout.count());
  } else {
    return true;
  }
  for (uint32_t i = 0; i < session_.nr_vcpus(); ++i)
    if (!session_.vcpu(i).stopped())
      for (std::string& l : session_.vcpu(i).describe_position()) b.explanation.push_back(std::move(l));
  budget_reported_ = true;
  sink_(b);
  return false;
}

sim::Vcpu::SliceEnd TdDriver::run_one(sim::Vcpu& v, uint64_t max_insns, bool breakpoints) {
  const uint64_t before = v.executed();
  const Clock::time_point t0 = Clock::now();
  v.set_breakpoints(breakpoints && !breakpoints_.empty() ? &breakpoints_ : nullptr);
  const sim::Vcpu::SliceEnd end = v.run_slice(std::min(max_insns, limits_.max_insns - used_), sink_, never_);
  v.set_breakpoints(nullptr);
  busy_ += Clock::now() - t0;
  used_ += v.executed() - before;
  return end;
}

TdDriver::StopInfo TdDriver::step(uint32_t vcpu) {
  sim::Vcpu& v = session_.vcpu(vcpu);
  if (ended()) return {Stop::kEnded, vcpu};
  if (v.stopped()) return {Stop::kStepped, vcpu};  // an ended vCPU stays where it is
  if (!budget_left()) return {Stop::kBudget, vcpu};
  run_one(v, 1, false);
  if (ended()) return {Stop::kEnded, vcpu};
  if (budget_reported_) return {Stop::kBudget, vcpu};
  return {Stop::kStepped, vcpu};
}

TdDriver::StopInfo TdDriver::resume(uint32_t vcpu, const std::function<bool()>& interrupted) {
  // A vCPU sitting on a breakpoint steps off it first, or it would stop there again.
  for (uint32_t i = 0; i < session_.nr_vcpus(); ++i) {
    sim::Vcpu& v = session_.vcpu(i);
    if (!v.stopped() && breakpoints_.count(rip_of(v))) {
      const StopInfo s = step(i);
      if (s.why != Stop::kStepped) return s;
    }
  }
  for (;;) {
    bool any_running = false;
    for (uint32_t i = 0; i < session_.nr_vcpus(); ++i) {
      sim::Vcpu& v = session_.vcpu(i);
      if (v.stopped()) continue;
      any_running = true;
      if (!budget_left()) return {Stop::kBudget, vcpu};
      if (run_one(v, slice_, true) == sim::Vcpu::SliceEnd::kBreakpoint) return {Stop::kBreakpoint, i};
    }
    if (!any_running) return {Stop::kEnded, vcpu};
    if (interrupted && interrupted()) return {Stop::kInterrupted, vcpu};
  }
}

}  // namespace tdsim::gdbstub
