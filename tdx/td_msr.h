// RDMSR and WRMSR in a TD: what the TDX module does with each architectural MSR a TD
// guest touches (runs natively through the MSR bitmap, raises #VE so the guest asks
// the VMM with TDG.VP.VMCALL<Instruction.RDMSR/WRMSR>, or injects #GP(0) for an MSR of a
// feature the TD does not have), as a table with sources, and the module's default for
// the rest. Engine-free; restated in
// docs/tdx-module-standin.md, "MSRs".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tdsim::tdx {

enum class MsrAccess { kNative, kVe, kGp };

struct MsrRule {
  uint32_t first, last;   // inclusive range
  MsrAccess read, write;  // without ATTRIBUTES.PERFMON where `perfmon` is set
  bool perfmon;           // native for both with ATTRIBUTES.PERFMON, else #VE
  const char* what;
  const char* source;
};

// The first row whose range holds the MSR applies (PAT sits before the MTRR range).
const std::vector<MsrRule>& td_msr_rules();

struct MsrDecision {
  MsrAccess access = MsrAccess::kVe;
  std::string why;  // for a #VE or #GP: the rule (or default) that raised it
};
MsrDecision td_msr_access(uint32_t msr, bool write, uint64_t attributes);

}  // namespace tdsim::tdx
