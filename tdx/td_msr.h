// RDMSR and WRMSR in a TD: what the TDX module does with each architectural MSR a TD
// guest touches (runs natively through the MSR bitmap, raises #VE so the guest asks
// the VMM with TDG.VP.VMCALL<Instruction.RDMSR/WRMSR>, injects #GP(0) for an MSR of a
// feature the TD does not have, or answers it with its own handler), as a table with
// sources, and the module's default for the rest. Engine-free; restated in
// docs/tdx-module-standin.md, "MSRs".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpuid_model.h"

namespace tdsim::tdx {

inline constexpr uint32_t kMsrEfer = 0xc0000080;

// kModule: the MSR exits to one of the module's own handlers (td_msr_virtual.h), which
// returns its virtual value, checks the write, or makes it a #VE or #GP.
enum class MsrAccess { kNative, kVe, kGp, kModule };

// The feature an MSR belongs to, as the module decides it: from the TD's ATTRIBUTES or
// from the TD's own virtual CPUID (TDH.MNG.INIT's values, which XFAM and the VMM's
// configuration shape). Without the feature every access is #GP(0).
struct MsrFeature {
  enum Kind { kNone, kAttribute, kCpuid, kXfam, kNever } kind = kNone;
  uint64_t attribute = 0;            // kAttribute: the ATTRIBUTES bit; kXfam: the XFAM bits (any)
  uint32_t leaf = 0, subleaf = 0;    // kCpuid: the bit that enumerates the feature
  uint8_t reg = 0, bit = 0;          // reg 0 EAX, 1 EBX, 2 ECX, 3 EDX
  const char* name = "";
};

struct MsrRule {
  uint32_t first, last;   // inclusive range
  MsrAccess read, write;  // with the feature
  MsrFeature feature;     // without it, #GP(0)
  const char* what;
  const char* source;
};

// The first row whose range holds the MSR applies (PAT sits before the MTRR range).
const std::vector<MsrRule>& td_msr_rules();

struct MsrDecision {
  MsrAccess access = MsrAccess::kVe;
  std::string why;  // for a #VE or #GP: the rule (or default) that raised it
  // From TdxModule::msr_instruction only, with access kModule: the module completed the
  // instruction itself (a RDMSR returns `value` in EDX:EAX; a WRMSR was taken).
  uint64_t value = 0;
};
// The TD configuration the table's features come from. `td_cpuid`: the TD's virtual
// CPUID values (TdxModule::td_cpuid()).
struct MsrTdConfig {
  uint64_t attributes = 0, xfam = 0;
  const CpuidModel& td_cpuid;
};
MsrDecision td_msr_access(uint32_t msr, bool write, const MsrTdConfig& td);
// Whether the TD has `f` (an ATTRIBUTES bit, XFAM bits, or a bit of its virtual CPUID).
bool td_has(const MsrFeature& f, const MsrTdConfig& td);

}  // namespace tdsim::tdx
