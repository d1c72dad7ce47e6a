// Execution control of a sim::Session for a debugger: step one vCPU, or continue all
// round-robin until a breakpoint (sim::Vcpu::set_breakpoints), an interrupt, the end of
// the TD or a budget; events go to the caller's sink as in Session::run. Wall-clock
// budget = time spent executing only. Knows sim::Session/Vcpu and Unicorn; no sockets.
#pragma once
#include <unicorn/unicorn.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "core/backend.h"
#include "sim/session.h"

namespace tdsim::gdbstub {

class TdDriver {
 public:
  enum class Stop {
    kStepped,      // the vCPU ran one instruction (a TDCALL counts as one)
    kBreakpoint,   // a vCPU reached a breakpoint address (not yet executed)
    kInterrupted,  // `interrupted()` returned true between slices
    kEnded,        // every vCPU has ended (terminal events went to the sink)
    kBudget,       // a budget ran out; a BudgetExceededEvent went to the sink
  };
  struct StopInfo {
    Stop why;
    uint32_t vcpu;  // the vCPU that stopped (kStepped, kBreakpoint), else the one asked for
  };

  // `session`, `sink` must outlive the driver. Every vCPU starts at its reset state.
  TdDriver(sim::Session& session, const RunLimits& limits, EventSink sink,
           uint64_t slice = sim::Session::kDefaultSlice);
  TdDriver(const TdDriver&) = delete;
  TdDriver& operator=(const TdDriver&) = delete;

  // One instruction on `vcpu`; breakpoints do not stop a step.
  StopInfo step(uint32_t vcpu);
  // All running vCPUs in turn, `slice` instructions each, `interrupted` polled between
  // turns. A vCPU sitting on a breakpoint first steps off it. `vcpu` names the vCPU to
  // report for kInterrupted.
  StopInfo resume(uint32_t vcpu, const std::function<bool()>& interrupted);

  void add_breakpoint(uint64_t addr) { breakpoints_.insert(addr); }
  // False when there was no breakpoint at `addr`.
  bool remove_breakpoint(uint64_t addr) { return breakpoints_.erase(addr) != 0; }
  void clear_breakpoints() { breakpoints_.clear(); }

  bool ended() const;    // every vCPU stopped
  bool over_budget() const { return budget_reported_; }
  // Instructions run so far under the driver (the instruction budget's count).
  uint64_t instructions() const { return used_; }
  sim::Session& session() { return session_; }
  // Code was written from outside (gdb 'M'): drop translated blocks covering it.
  void code_written(uint64_t addr, uint64_t len);

 private:
  bool budget_left();
  sim::Vcpu::SliceEnd run_one(sim::Vcpu& v, uint64_t max_insns, bool breakpoints);

  sim::Session& session_;
  RunLimits limits_;
  EventSink sink_;
  uint64_t slice_;
  uint64_t used_ = 0;
  std::chrono::steady_clock::duration busy_{};
  bool budget_reported_ = false;
  std::set<uint64_t> breakpoints_;
  // run_slice's cancel flag: never set (a slice is bounded by its instruction count and
  // the wall-clock budget is checked between slices).
  const std::atomic<bool> never_{false};
};

}  // namespace tdsim::gdbstub
