// Deterministic round-robin of vCPUs on one thread, in fixed instruction slices.
// One thread because LOCK-prefixed instructions are not atomic across Unicorn engines
// (docs/engine-quirks.md, "One thread for all vCPUs"); fixed slices so the same image
// gives the same event order.
// The loop itself is core/round_robin.h, shared with the gdb stub; this adapts the
// Unicorn vCPUs and the watchdog to it. Not the backend or the image layout.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend.h"
#include "vcpu.h"
#include "watchdog.h"

namespace tdsim::sim {

// Runs vCPUs in index order, `slice` instructions each turn, until every vCPU stopped
// or a budget ran out (then one BudgetExceededEvent). Instruction budget: limits.max_insns
// summed over vCPUs. Wall clock: checked after every slice and, inside a slice, enforced
// by `watchdog` stopping the engine.
void run_round_robin(const std::vector<std::unique_ptr<Vcpu>>& vcpus, const RunLimits& limits,
                     uint64_t slice, Watchdog& watchdog, const EventSink& sink);

// Whether a vCPU other than `vcpu` has not ended: then `vcpu` gives up its turn at a
// PAUSE (Vcpu::set_yield_at_pause). Asked before every turn, by the debugger's turns too,
// so a run and a debugged run interleave alike.
// `vcpus` holds Vcpu pointers of any kind.
template <class Vcpus>
bool others_running(const Vcpus& vcpus, uint32_t vcpu) {
  for (uint32_t i = 0; i < vcpus.size(); ++i)
    if (i != vcpu && !vcpus[i]->stopped()) return true;
  return false;
}

}  // namespace tdsim::sim
