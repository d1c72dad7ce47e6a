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

}  // namespace tdsim::sim
