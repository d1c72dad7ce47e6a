// The end a HLT makes when the guest's IDT has no #VE gate, on every backend: the TDX
// module's #VE cannot be delivered and the TD shuts down (tdx::hlt_without_ve_gate). Raw
// test code and stubs that end with HLT end with this event.
#pragma once
#include <string>
#include <variant>

#include "core/event.h"

namespace tdsim::test {

// The shutdown at a HLT without a #VE gate, or nullptr for any other event.
inline const FaultEvent* hlt_shutdown(const Event& e) {
  const auto* f = std::get_if<FaultEvent>(&e);
  return f && f->vector == 20 && f->triple_fault && f->detail.find("no vector-20 gate") != std::string::npos ? f
                                                                                                           : nullptr;
}

}  // namespace tdsim::test
