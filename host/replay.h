// Explaining a fault the backend could not look into. A real TD's state is hidden, so
// kvm-tdx reports a triple fault (or a fatal exit) with no registers and no cause; plain
// KVM sees the state only where the vCPU stopped, which after a shutdown may explain
// nothing. The
// same image runs deterministically on the first backend that can read a vCPU's state
// in-process (BackendCaps::register_access and in_process_engines: Unicorn); its
// explanation of that vCPU's first fault is attached, every line marked as a replay, so
// a stub that dies on TDX hardware gets the same diagnosis as in the simulator. Policy
// for callers (CLI, tests); knows backends only through the registry.
#pragma once
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/event.h"
#include "core/td_image.h"

namespace tdsim::host {

// Lines to append to `fault`'s explanation: "replay on BACKEND: ..." followed by that
// backend's own explanation of the first fault of the same vCPU; or one line saying why
// there is none (no backend can replay, the replay ended without a fault on that vCPU,
// or it failed). Bounded by `limits`. Never throws for guest-controlled input.
std::vector<std::string> replay_explanation(const TdImage& image, const FaultEvent& fault, const RunLimits& limits);

// True for a fault from a backend that is not itself the in-process emulator when its
// explanation names no cause: a real TD's (no state at all) or plain KVM's where only a
// shutdown or an emulation failure was left to explain. The case replay_explanation is for.
bool wants_replay(const FaultEvent& fault, bool backend_is_in_process);

}  // namespace tdsim::host
