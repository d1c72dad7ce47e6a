// The driver behind Backend::run and every CLI command that runs an image: runs all
// vCPUs of a Vm (core/vm.h) to their ends through the host API alone, so a backend only
// has to provide the mechanism (memory, vCPUs, one step to the next exit).
//
// How the vCPUs share out follows what the VM says of itself (Vm::concurrent_vcpus):
// - one at a time: the common round-robin (core/round_robin.h) in fixed instruction
//   turns on the calling thread, so an image gives the same event order on every run;
// - concurrently (KVM): one host thread per vCPU, as a KVM selftest runs them, events
//   serialised into the sink; the calling thread watches the deadline and kicks.
// Knows no backend.
#pragma once
#include <cstdint>

#include "backend.h"
#include "vm.h"

namespace tdsim {

// Returns once every vCPU has ended or a budget ran out (then one BudgetExceededEvent,
// after the events that happened before it). Budgets: limits.max_insns summed over the
// vCPUs where the backend counts instructions, limits.timeout over the whole run.
// `slice`: instructions per turn when vCPUs take turns. An exception from the sink or
// the backend stops every vCPU and is rethrown here.
void run_to_end(Vm& vm, const RunLimits& limits, uint64_t slice, const EventSink& sink);

}  // namespace tdsim
