// The table of "likely cause" rules for a fault, each naming the boot parameter or image
// part to fix. Every rule is a pure function of a FaultContext; the table order is the
// report order. Knows no engine.
#pragma once
#include <string>
#include <vector>

#include "diag/fault_context.h"

namespace tdsim::diag {

struct FaultCause {
  std::string rule;     // stable id, e.g. "cr4-pae-missing" (core/cr_rules.h for the CR rules)
  std::string field;    // what to fix: "boot_params.cr4", "gdt[1]", "page_tables", ...
  std::string message;
};

std::vector<FaultCause> find_causes(const FaultContext& c);

}  // namespace tdsim::diag
