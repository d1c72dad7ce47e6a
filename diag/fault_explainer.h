// Explains a guest fault in TD terms: vector, mode, control registers, the faulting
// instruction and symbol, the page walk, the GDT entry involved, and the boot parameter
// or image part most likely at fault. Engine-independent: backends hand it the
// FaultEvent they emit plus what they could read of the registers (diag/cpu_state.h).
#pragma once
#include <string>
#include <vector>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/cpu_state.h"
#include "diag/fault_rules.h"

namespace tdsim::diag {

// Report lines, first line a one-line summary; no trailing newlines.
std::vector<std::string> explain_fault(const FaultEvent& ev, const CpuState& cpu,
                                       const TdImage& image, const GuestMemory& mem);

// Just the "likely cause" findings (what explain_fault prints under "cause").
std::vector<FaultCause> fault_causes(const FaultEvent& ev, const CpuState& cpu,
                                     const TdImage& image, const GuestMemory& mem);

}  // namespace tdsim::diag
