#include "run_control.h"

#include <array>
#include <cstring>

namespace tdsim::gdbstub {

uint64_t rip_of(DebugTarget& t, uint32_t vcpu) {
  static const unsigned rip = *find_register("rip");
  uint64_t r = 0;
  std::array<uint8_t, 8> b{};
  if (t.read_register(vcpu, rip, b)) std::memcpy(&r, b.data(), sizeof r);
  return r;
}

TurnTaker::TurnEnd LeadingRunControl::Turns::run_turn(uint32_t v, uint64_t max_insns, const EventSink& sink) {
  last = t_.run(v, max_insns, breakpoints, sink);
  switch (last.kind) {
    case DebugStop::Kind::kEnded: return TurnEnd::kStopped;
    case DebugStop::Kind::kBreakpoint: return TurnEnd::kBreakpoint;
    case DebugStop::Kind::kWatchpoint: return TurnEnd::kWatchpoint;
    case DebugStop::Kind::kExhausted: break;
  }
  return TurnEnd::kExhausted;
}

LeadingRunControl::LeadingRunControl(DebugTarget& target, const RunLimits& limits, EventSink sink, uint64_t slice)
    : target_(target), outcome_(target.nr_vcpus()),
      sink_([this, sink = std::move(sink)](const Event& e) {
        outcome_.add(e);
        sink(e);
      }),
      turns_(target), scheduler_(limits, slice) {}

bool LeadingRunControl::ended() const {
  for (uint32_t i = 0; i < target_.nr_vcpus(); ++i)
    if (!target_.ended(i)) return false;
  return true;
}

RunControl::StopInfo LeadingRunControl::stop_of(RoundRobin::Pause p) const {
  switch (p.why) {
    case RoundRobin::Why::kEnded: return {Stop::kEnded, p.vcpu};
    case RoundRobin::Why::kBudget: return {Stop::kBudget, p.vcpu};
    case RoundRobin::Why::kBreakpoint: return {Stop::kBreakpoint, p.vcpu};
    case RoundRobin::Why::kWatchpoint: return {Stop::kWatchpoint, p.vcpu, turns_.last.watch, turns_.last.watch_addr};
    case RoundRobin::Why::kInterrupted: return {Stop::kInterrupted, p.vcpu};
    case RoundRobin::Why::kTurn: break;
  }
  return {Stop::kStepped, p.vcpu};
}

RunControl::StopInfo LeadingRunControl::step(uint32_t vcpu, const std::function<bool()>&) {
  turns_.breakpoints = false;
  const RoundRobin::Pause p = scheduler_.turn(turns_, vcpu, 1, sink_);
  turns_.breakpoints = true;
  return stop_of(p);
}

RunControl::StopInfo LeadingRunControl::resume(uint32_t vcpu, const std::function<bool()>& interrupted) {
  // A vCPU sitting on a breakpoint steps off it first, or it would stop there again.
  for (uint32_t i = 0; i < target_.nr_vcpus(); ++i) {
    if (target_.ended(i)) continue;
    if (target_.has_breakpoint(rip_of(target_, i))) {
      const StopInfo s = step(i);
      if (s.why != Stop::kStepped) {
        StopInfo r = s;
        if (r.why == Stop::kEnded || r.why == Stop::kBudget) r.vcpu = vcpu;
        return r;
      }
    }
  }
  StopInfo s = stop_of(scheduler_.run(turns_, sink_, interrupted));
  if (s.why == Stop::kEnded || s.why == Stop::kInterrupted || s.why == Stop::kBudget) s.vcpu = vcpu;
  return s;
}

}  // namespace tdsim::gdbstub
