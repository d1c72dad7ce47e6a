#include "td_msr.h"

#include <fmt/format.h>

#include "td_cpuid.h"

namespace tdsim::tdx {

namespace {

constexpr const char* kMsrHandler = "TDX module td_msr_access.c";
constexpr const char* kSpec = "TDX module spec, MSR virtualization";
// td_msr_access.c's generic case: an exit on an MSR whose action is "#GP or #VE" injects
// #GP(0) when the TD lacks the feature (DCA, TME: fixed-0 in tdsim's TD CPUID, td_cpuid.h).
constexpr const char* kGpOrVe = "TDX module td_msr_access.c (MSR_ACTION_GP_OR_VE without the feature)";
constexpr MsrAccess N = MsrAccess::kNative, V = MsrAccess::kVe, G = MsrAccess::kGp;

// The MSR bitmap covers 0..0x1fff and 0xc0000000..0xc0001fff; outside it every access is
// a #VE (td_msr_access.c).
bool in_bitmap(uint32_t msr) { return msr < 0x2000 || (msr >= 0xc0000000u && msr < 0xc0002000u); }

}  // namespace

const std::vector<MsrRule>& td_msr_rules() {
  static const std::vector<MsrRule> rules = {
      {0x10, 0x10, N, V, false, "IA32_TIME_STAMP_COUNTER: read natively, a write is a #VE", kSpec},
      {0x1b, 0x1b, V, V, false, "IA32_APIC_BASE: KVM's (x2APIC, read-only to the TD)", kSpec},
      {0x48, 0x49, N, N, false, "IA32_SPEC_CTRL, IA32_PRED_CMD", kSpec},
      {0xc1, 0xc8, N, N, true, "IA32_PMC0..7: with ATTRIBUTES.PERFMON", kSpec},
      {0xfe, 0xfe, V, V, false, "IA32_MTRRCAP (MTRRs are the VMM's)", kMsrHandler},
      {0x186, 0x18d, N, N, true, "IA32_PERFEVTSEL0..7: with ATTRIBUTES.PERFMON", kSpec},
      {0x1a0, 0x1a0, N, N, false, "IA32_MISC_ENABLE: virtualised by the module (reads its value, checked writes)",
       kMsrHandler},
      {0x1f8, 0x1fa, G, G, false, "IA32_PLATFORM_DCA_CAP, IA32_CPU_DCA_CAP, IA32_DCA_0_CAP: no DCA in a TD",
       kGpOrVe},
      {0x1fc, 0x1fc, V, V, false, "MSR_POWER_CTL: not in the module's table, so #VE (KVM answers)", kMsrHandler},
      {0x277, 0x277, N, N, false, "IA32_PAT", kSpec},
      {0x200, 0x2ff, V, V, false, "MTRR physical base/mask, fixed ranges, MTRRdefType: #VE (MTRRs supported)",
       kMsrHandler},
      {0x309, 0x30b, N, N, true, "IA32_FIXED_CTR0..2: with ATTRIBUTES.PERFMON", kSpec},
      {0x38d, 0x390, N, N, true, "IA32_FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/OVF_CTRL: with ATTRIBUTES.PERFMON",
       kSpec},
      {0x6e0, 0x6e0, V, V, false, "IA32_TSC_DEADLINE: KVM's timer", kSpec},
      {0x800, 0x8ff, V, V, false, "x2APIC registers (ICR 0x830 included): KVM's APIC", kSpec},
      {0x981, 0x984, G, G, false, "IA32_TME_CAPABILITY, TME_ACTIVATE, TME_EXCLUDE_MASK/BASE: no TME in a TD",
       kGpOrVe},
      {0xc0000080, 0xc0000080, N, N, false,
       "IA32_EFER (the module lets a write change SCE only and makes anything else a #VE; tdsim lets the engine "
       "run the write)",
       kMsrHandler},
      {0xc0000081, 0xc0000084, N, N, false, "STAR, LSTAR, CSTAR, FMASK", kSpec},
      {0xc0000100, 0xc0000102, N, N, false, "FS_BASE, GS_BASE, KERNEL_GS_BASE", kSpec},
      {0xc0000103, 0xc0000103, N, N, false, "IA32_TSC_AUX", kSpec},
  };
  return rules;
}

MsrDecision td_msr_access(uint32_t msr, bool write, uint64_t attributes) {
  const char* op = write ? "WRMSR" : "RDMSR";
  if (!in_bitmap(msr))
    return {MsrAccess::kVe, fmt::format("{} {:#x}: outside the MSR bitmap ranges (always #VE)", op, msr)};
  for (const MsrRule& r : td_msr_rules()) {
    if (msr < r.first || msr > r.last) continue;
    if (r.perfmon && !(attributes & kAttrPerfmon))
      return {MsrAccess::kVe, fmt::format("{} {:#x} ({}): the TD has no ATTRIBUTES.PERFMON", op, msr, r.what)};
    const MsrAccess a = write ? r.write : r.read;
    return {a, a == MsrAccess::kNative ? std::string() : fmt::format("{} {:#x}: {}", op, msr, r.what)};
  }
  return {MsrAccess::kVe, fmt::format("{} {:#x}: not in the TDX module's MSR table (#VE without REDUCE_VE)", op, msr)};
}

}  // namespace tdsim::tdx
