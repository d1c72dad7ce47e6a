// What a simulator run reports besides Events: trace lines (instructions, boot steps,
// TDCALLs) and which boot-stub instructions ran. Trace lines go to their own sink, never
// into the event stream. Engine-free types and formatters; the Unicorn vCPU feeds them.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/td_image.h"
#include "diag/disasm.h"
#include "ucall/host/tdvmcall.h"

namespace tdsim::sim {

using TraceSink = std::function<void(const std::string&)>;

// Boot-stub instructions that executed, with the mode they ran in (merged over vCPUs).
struct StubCoverage {
  std::map<uint64_t, diag::CpuMode> executed;
};

struct TraceOptions {
  bool insn = false;    // every instruction (uses the budget hook already installed)
  bool boot = false;    // LGDT/LIDT, CR writes, paging on, 64-bit switch, guest entry
  bool tdcall = false;  // each TDCALL: leaf name, register roles, result
  TraceSink sink;       // where lines go; required when any of the above is on
  StubCoverage* coverage = nullptr;  // filled when set
};

// The stub's instructions from stub_gpa through the reset vector, one line each, marked
// "+" (ran) or "-" (never ran), followed by a count line. Instructions that ran are
// decoded in the mode they ran in; the rest in the mode of the nearest one before them.
std::vector<std::string> format_stub_coverage(const StubCoverage& cov, const TdImage& image);

}  // namespace tdsim::sim
