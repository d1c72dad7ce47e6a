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
// td_msr_access.c (TDX 1.0): an MSR of the perfmon group, or XFD, PKRS, UMWAIT_CONTROL,
// whose feature the TD lacks is a #GP(0) on its exit.
constexpr const char* kGpWithout = "TDX module td_msr_access.c (#GP(0) without the TD's feature)";
constexpr MsrAccess N = MsrAccess::kNative, V = MsrAccess::kVe;

constexpr MsrFeature kAlways{};
constexpr MsrFeature kPerfmon{MsrFeature::kAttribute, kAttrPerfmon, 0, 0, 0, 0, "ATTRIBUTES.PERFMON"};
constexpr MsrFeature kPks{MsrFeature::kCpuid, 0, 7, 0, 2, 31, "PKS (CPUID 7.0 ECX[31], with ATTRIBUTES.PKS)"};
constexpr MsrFeature kWaitpkg{MsrFeature::kCpuid, 0, 7, 0, 2, 5, "WAITPKG (CPUID 7.0 ECX[5])"};
constexpr MsrFeature kXfd{MsrFeature::kCpuid, 0, 0xd, 1, 0, 4, "XFD (CPUID 0xd.1 EAX[4])"};
constexpr MsrFeature kDca{MsrFeature::kCpuid, 0, 1, 0, 2, 18, "DCA (CPUID 1 ECX[18], fixed-0 in a TD)"};
constexpr MsrFeature kTme{MsrFeature::kCpuid, 0, 7, 0, 2, 13, "TME (CPUID 7.0 ECX[13], fixed-0 in a TD)"};

bool has(const MsrFeature& f, uint64_t attributes, const CpuidModel& td_cpuid) {
  switch (f.kind) {
    case MsrFeature::kNone: return true;
    case MsrFeature::kAttribute: return (attributes & f.attribute) != 0;
    case MsrFeature::kCpuid: {
      const CpuidValue v = td_cpuid.answer(f.leaf, f.subleaf);
      const uint32_t regs[] = {v.eax, v.ebx, v.ecx, v.edx};
      return (regs[f.reg & 3] >> f.bit) & 1;
    }
  }
  return false;
}

// The MSR bitmap covers 0..0x1fff and 0xc0000000..0xc0001fff; outside it every access is
// a #VE (td_msr_access.c).
bool in_bitmap(uint32_t msr) { return msr < 0x2000 || (msr >= 0xc0000000u && msr < 0xc0002000u); }

}  // namespace

const std::vector<MsrRule>& td_msr_rules() {
  static const std::vector<MsrRule> rules = {
      {0x10, 0x10, N, V, kAlways, "IA32_TIME_STAMP_COUNTER: read natively, a write is a #VE", kSpec},
      {0x1b, 0x1b, V, V, kAlways, "IA32_APIC_BASE: KVM's (x2APIC, read-only to the TD)", kSpec},
      {0x48, 0x49, N, N, kAlways, "IA32_SPEC_CTRL, IA32_PRED_CMD", kSpec},
      {0xc1, 0xc8, N, N, kPerfmon, "IA32_PMC0..7", kGpWithout},
      {0xe1, 0xe1, N, N, kWaitpkg, "IA32_UMWAIT_CONTROL", kGpWithout},
      {0xfe, 0xfe, V, V, kAlways, "IA32_MTRRCAP (MTRRs are the VMM's)", kMsrHandler},
      {0x186, 0x18d, N, N, kPerfmon, "IA32_PERFEVTSEL0..7", kGpWithout},
      {0x1a0, 0x1a0, N, N, kAlways, "IA32_MISC_ENABLE: virtualised by the module (reads its value, checked writes)",
       kMsrHandler},
      {0x1c4, 0x1c5, N, N, kXfd, "IA32_XFD, IA32_XFD_ERR", kGpWithout},
      {0x1f8, 0x1fa, V, V, kDca, "IA32_PLATFORM_DCA_CAP, IA32_CPU_DCA_CAP, IA32_DCA_0_CAP", kGpOrVe},
      {0x1fc, 0x1fc, V, V, kAlways, "MSR_POWER_CTL: not in the module's table, so #VE (KVM answers)", kMsrHandler},
      {0x277, 0x277, N, N, kAlways, "IA32_PAT", kSpec},
      {0x200, 0x2ff, V, V, kAlways, "MTRR physical base/mask, fixed ranges, MTRRdefType: #VE (MTRRs supported)",
       kMsrHandler},
      {0x309, 0x30b, N, N, kPerfmon, "IA32_FIXED_CTR0..2", kGpWithout},
      {0x38d, 0x390, N, N, kPerfmon, "IA32_FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/OVF_CTRL", kGpWithout},
      {0x6e0, 0x6e0, V, V, kAlways, "IA32_TSC_DEADLINE: KVM's timer", kSpec},
      {0x6e1, 0x6e1, N, N, kPks, "IA32_PKRS", kGpWithout},
      {0x800, 0x8ff, V, V, kAlways, "x2APIC registers (ICR 0x830 included): KVM's APIC", kSpec},
      {0x981, 0x984, V, V, kTme, "IA32_TME_CAPABILITY, TME_ACTIVATE, TME_EXCLUDE_MASK/BASE", kGpOrVe},
      {0xc0000080, 0xc0000080, N, N, kAlways,
       "IA32_EFER (the module lets a write change SCE only and makes anything else a #VE; tdsim lets the engine "
       "run the write)",
       kMsrHandler},
      {0xc0000081, 0xc0000084, N, N, kAlways, "STAR, LSTAR, CSTAR, FMASK", kSpec},
      {0xc0000100, 0xc0000102, N, N, kAlways, "FS_BASE, GS_BASE, KERNEL_GS_BASE", kSpec},
      {0xc0000103, 0xc0000103, N, N, kAlways, "IA32_TSC_AUX", kSpec},
  };
  return rules;
}

MsrDecision td_msr_access(uint32_t msr, bool write, uint64_t attributes, const CpuidModel& td_cpuid) {
  const char* op = write ? "WRMSR" : "RDMSR";
  if (!in_bitmap(msr))
    return {MsrAccess::kVe, fmt::format("{} {:#x}: outside the MSR bitmap ranges (always #VE)", op, msr)};
  for (const MsrRule& r : td_msr_rules()) {
    if (msr < r.first || msr > r.last) continue;
    if (!has(r.feature, attributes, td_cpuid))
      return {MsrAccess::kGp, fmt::format("{} {:#x} ({}): the TD has no {}", op, msr, r.what, r.feature.name)};
    const MsrAccess a = write ? r.write : r.read;
    return {a, a == MsrAccess::kNative ? std::string() : fmt::format("{} {:#x}: {}", op, msr, r.what)};
  }
  return {MsrAccess::kVe, fmt::format("{} {:#x}: not in the TDX module's MSR table (#VE without REDUCE_VE)", op, msr)};
}

}  // namespace tdsim::tdx
