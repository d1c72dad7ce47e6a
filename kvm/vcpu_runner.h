// Runs every vCPU of a KVM VM on its own thread: KVM_RUN, hand the exit to a backend's
// handler, serialize events into the sink, stop each vCPU at its terminal event, and
// bound the whole run by wall clock (immediate_exit + a signal kick). Knows no TD layout.
#pragma once
#include <functional>
#include <vector>

#include "core/backend.h"
#include "kvm_vm.h"

namespace tdsim::kvm {

// Emits one event; returns true once this vCPU has emitted a terminal event.
using Emit = std::function<bool(const Event&)>;

// Called after each KVM_RUN that returned to userspace. Decodes run->exit_reason, emits
// events, fixes up state for re-entry; returns false to stop this vCPU (after emitting a
// terminal event that says why).
using ExitHandler = std::function<bool(KvmVcpu& vcpu, uint32_t index, const Emit& emit)>;

// The real-time signal that knocks a thread out of KVM_RUN (EINTR), and its no-op
// handler, installed once per process.
int kick_signal();
void install_kick_handler();

// vcpus[i] is vCPU index i. Returns once every vCPU stopped or the wall-clock budget ran
// out (then BudgetExceededEvent{kWallClock} is emitted once, after all threads joined).
// An exception thrown on a vCPU thread stops all vCPUs and is rethrown here.
// RunLimits::max_insns is not enforced: KVM cannot count guest instructions cheaply.
void run_vcpus(const std::vector<KvmVcpu*>& vcpus, const RunLimits& limits,
               const EventSink& sink, const ExitHandler& handler);

}  // namespace tdsim::kvm
