#include "td_msr.h"

#include <fmt/format.h>

#include "td_cpuid.h"

namespace tdsim::tdx {

namespace {

// The TDX 1.0 module's MSR lookup table (include/auto_gen/msr_config_lookup.c, generated
// from the spec's MSR virtualization sheet) and its exit handlers (td_msr_access.c):
// td_rdmsr_exit/td_wrmsr_exit and rd_wr_msr_generic_case.
constexpr const char* kTable = "module msr_config_lookup.c";
constexpr const char* kMsrHandler = "module td_msr_access.c";
// FIXED_1_GP_AT_EXIT: every access exits and rd_wr_msr_generic_case injects #GP(0).
constexpr const char* kGpAtExit = "module msr_config_lookup.c (FIXED_1_GP_AT_EXIT)";
// FIXED_1_OTHER with a feature (DCA, TME): #GP(0) without it, #VE with it.
constexpr const char* kGpOrVe = "module td_msr_access.c (rd_wr_msr_generic_case: #GP(0) without the feature)";
// PERFMON / OTHER / XFAM_* bit meanings: native with the TD's feature (the bitmap bit is
// cleared), else the exit injects #GP(0).
constexpr const char* kGpWithout = "module msr_config_lookup.c + td_msr_access.c (#GP(0) without the TD's feature)";
// Not in the lookup table, inside the bitmap ranges: #VE (rd_wr_msr_generic_case).
constexpr const char* kDefaultVe = "module td_msr_access.c (not in msr_config_lookup.c: #VE)";
constexpr const char* kSpec = "TDX module spec, MSR virtualization";
constexpr MsrAccess N = MsrAccess::kNative, V = MsrAccess::kVe, G = MsrAccess::kGp, M = MsrAccess::kModule;

constexpr MsrFeature kAlways{};
constexpr MsrFeature kPerfmon{MsrFeature::kAttribute, kAttrPerfmon, 0, 0, 0, 0, "ATTRIBUTES.PERFMON"};
constexpr MsrFeature kPks{MsrFeature::kCpuid, 0, 7, 0, 2, 31, "PKS (CPUID 7.0 ECX[31], with ATTRIBUTES.PKS)"};
constexpr MsrFeature kWaitpkg{MsrFeature::kCpuid, 0, 7, 0, 2, 5, "WAITPKG (CPUID 7.0 ECX[5])"};
constexpr MsrFeature kXfd{MsrFeature::kCpuid, 0, 0xd, 1, 0, 4, "XFD (CPUID 0xd.1 EAX[4])"};
constexpr MsrFeature kDca{MsrFeature::kCpuid, 0, 1, 0, 2, 18, "DCA (CPUID 1 ECX[18], fixed-0 in a TD)"};
constexpr MsrFeature kTme{MsrFeature::kCpuid, 0, 7, 0, 2, 13, "TME (CPUID 7.0 ECX[13], fixed-0 in a TD)"};
// XFAM bits (the module's is_pt/cet/uli/lbr_supported_in_tdvps).
constexpr MsrFeature kXfamPt{MsrFeature::kXfam, 1ull << 8, 0, 0, 0, 0, "XFAM.PT (bit 8)"};
constexpr MsrFeature kXfamCet{MsrFeature::kXfam, 3ull << 11, 0, 0, 0, 0, "XFAM.CET (bits 12:11)"};
constexpr MsrFeature kXfamUli{MsrFeature::kXfam, 1ull << 14, 0, 0, 0, 0, "XFAM.ULI (bit 14)"};
constexpr MsrFeature kXfamLbr{MsrFeature::kXfam, 1ull << 15, 0, 0, 0, 0, "XFAM.LBR (bit 15)"};

// The MSR bitmap covers 0..0x1fff and 0xc0000000..0xc0001fff; outside it every access is
// a #VE (td_msr_access.c).
bool in_bitmap(uint32_t msr) { return msr < 0x2000 || (msr >= 0xc0000000u && msr < 0xc0002000u); }

}  // namespace

bool td_has(const MsrFeature& f, const MsrTdConfig& td) {
  switch (f.kind) {
    case MsrFeature::kNone: return true;
    case MsrFeature::kNever: return false;
    case MsrFeature::kAttribute: return (td.attributes & f.attribute) != 0;
    case MsrFeature::kXfam: return (td.xfam & f.attribute) != 0;
    case MsrFeature::kCpuid: {
      const CpuidValue v = td.td_cpuid.answer(f.leaf, f.subleaf);
      const uint32_t regs[] = {v.eax, v.ebx, v.ecx, v.edx};
      return (regs[f.reg & 3] >> f.bit) & 1;
    }
  }
  return false;
}

const std::vector<MsrRule>& td_msr_rules() {
  static const std::vector<MsrRule> rules = {
      {0x10, 0x10, N, V, kAlways, "IA32_TIME_STAMP_COUNTER: read natively, a write is a #VE", kTable},
      {0x1b, 0x1b, V, V, kAlways, "IA32_APIC_BASE: KVM's (x2APIC, read-only to the TD)", kDefaultVe},
      {0x3a, 0x3a, V, V, kAlways, "IA32_FEATURE_CONTROL: the VMM's", kDefaultVe},
      {0x48, 0x49, N, N, kAlways, "IA32_SPEC_CTRL, IA32_PRED_CMD", kTable},
      {0x8c, 0x8f, G, G, kAlways, "IA32_SGXLEPUBKEYHASH0..3 (no SGX in a TD)", kGpAtExit},
      {0x98, 0x9b, G, G, kAlways, "MSR_WBINVDP, MSR_WBNOINVDP, MSR_INTR_PENDING, IA32_SMM_MONITOR_CTL", kGpAtExit},
      {0x9e, 0x9e, G, G, kAlways, "IA32_SMBASE (no SMM in a TD)", kGpAtExit},
      {0xc1, 0xc8, N, N, kPerfmon, "IA32_PMC0..7", kGpWithout},
      {0xce, 0xce, V, V, kAlways, "MSR_PLATFORM_INFO: the VMM's", kDefaultVe},
      {0xcf, 0xcf, V, V, kAlways, "IA32_CORE_CAPABILITIES: not in the 1.0 table (#VE; KVM answers)", kDefaultVe},
      {0xe1, 0xe1, N, N, kWaitpkg, "IA32_UMWAIT_CONTROL", kGpWithout},
      {0xfe, 0xfe, V, V, kAlways, "IA32_MTRRCAP (MTRRs are the VMM's)", kDefaultVe},
      {0x10a, 0x10a, M, G, kAlways,
       "IA32_ARCH_CAPABILITIES: the module's virtual value (TSX_CTRL enumerated absent); read-only", kMsrHandler},
      {0x10b, 0x10b, N, N, kAlways, "IA32_FLUSH_CMD", kTable},
      {0x122, 0x122, G, G, kAlways, "IA32_TSX_CTRL (enumerated absent)", kGpAtExit},
      {0x174, 0x176, N, N, kAlways, "IA32_SYSENTER_CS/ESP/EIP", kTable},
      {0x186, 0x18d, N, N, kPerfmon, "IA32_PERFEVTSEL0..7", kGpWithout},
      {0x1a0, 0x1a0, M, V, kAlways,
       "IA32_MISC_ENABLE: the module's virtual value; a write is a #VE (no REDUCE_VE)", kMsrHandler},
      {0x1a6, 0x1a7, N, N, kPerfmon, "MSR_OFFCORE_RSP0..1", kGpWithout},
      {0x1c4, 0x1c5, N, N, kXfd, "IA32_XFD, IA32_XFD_ERR", kGpWithout},
      {0x1d9, 0x1d9, M, M, kAlways,
       "IA32_DEBUGCTL: the module keeps it (bit 13 reads 0; reserved bits #GP, TR without BTS #VE)", kMsrHandler},
      {0x1f8, 0x1fa, V, V, kDca, "IA32_PLATFORM_DCA_CAP, IA32_CPU_DCA_CAP, IA32_DCA_0_CAP", kGpOrVe},
      {0x1fc, 0x1fc, V, V, kAlways, "MSR_POWER_CTL: not in the module's table, so #VE (KVM answers)", kDefaultVe},
      {0x276, 0x276, G, G, kAlways, "MSR_SLAM_ENABLE", kGpAtExit},
      {0x277, 0x277, N, N, kAlways, "IA32_PAT", kTable},
      {0x200, 0x2ff, V, V, kAlways, "MTRR physical base/mask, fixed ranges, MTRRdefType: #VE (MTRRs supported)",
       kDefaultVe},
      {0x309, 0x30c, N, N, kPerfmon, "IA32_FIXED_CTR0..3", kGpWithout},
      {0x329, 0x329, N, N, kPerfmon, "IA32_PERF_METRICS", kGpWithout},
      {0x345, 0x345, M, G, kAlways,
       "IA32_PERF_CAPABILITIES: the module's value (0 without ATTRIBUTES.PERFMON); read-only", kMsrHandler},
      {0x38d, 0x392, N, N, kPerfmon, "IA32_FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/STATUS_RESET/STATUS_SET/INUSE",
       kGpWithout},
      {0x3f1, 0x3f2, N, N, kPerfmon, "IA32_PEBS_ENABLE, MSR_PEBS_DATA_CFG", kGpWithout},
      {0x3f6, 0x3f7, N, N, kPerfmon, "MSR_PEBS_LD_LAT, MSR_PEBS_FRONTEND", kGpWithout},
      {0x480, 0x492, G, G, kAlways, "IA32_VMX_BASIC..IA32_VMX_PROCBASED_CTLS3 (no VMX in a 1.0 TD)", kGpAtExit},
      {0x4c1, 0x4c8, N, N, kPerfmon, "IA32_A_PMC0..7", kGpWithout},
      {0x500, 0x500, G, G, kAlways, "IA32_SGX_SVN_STATUS", kGpAtExit},
      {0x560, 0x561, N, N, kXfamPt, "IA32_RTIT_OUTPUT_BASE, IA32_RTIT_OUTPUT_MASK_PTRS", kGpWithout},
      {0x570, 0x572, N, N, kXfamPt, "IA32_RTIT_CTL, IA32_RTIT_STATUS, IA32_RTIT_CR3_MATCH", kGpWithout},
      {0x580, 0x587, N, N, kXfamPt, "IA32_RTIT_ADDR0_A..ADDR3_B", kGpWithout},
      {0x600, 0x600, N, N, kAlways, "IA32_DS_AREA", kTable},
      {0x6a0, 0x6a0, N, N, kXfamCet, "IA32_U_CET", kGpWithout},
      {0x6a2, 0x6a2, N, N, kXfamCet, "IA32_S_CET", kGpWithout},
      {0x6a4, 0x6a8, N, N, kXfamCet, "IA32_PL0..3_SSP, IA32_INTERRUPT_SSP_TABLE_ADDR", kGpWithout},
      {0x6e0, 0x6e0, V, V, kAlways, "IA32_TSC_DEADLINE: KVM's timer", kDefaultVe},
      {0x6e1, 0x6e1, N, N, kPks, "IA32_PKRS", kGpWithout},
      // The x2APIC range. The module's table: the registers a TD's virtual APIC answers
      // in hardware (TPR, PPR, EOI, ISR, TMR, IRR, SELF IPI) native, the reserved
      // offsets #GP, the rest #VE. tdsim has no virtual APIC: every register that is not
      // reserved goes to KVM's APIC through the #VE (docs/tdx-module-standin.md).
      {0x800, 0x801, G, G, kAlways, "x2APIC: reserved", kGpAtExit},
      {0x804, 0x807, G, G, kAlways, "x2APIC: reserved", kGpAtExit},
      {0x829, 0x82e, G, G, kAlways, "x2APIC: reserved", kGpAtExit},
      {0x831, 0x831, G, G, kAlways, "x2APIC: reserved", kGpAtExit},
      {0x840, 0x8ff, G, G, kAlways, "x2APIC: reserved", kGpAtExit},
      {0x802, 0x83f, V, V, kAlways, "x2APIC registers (ICR 0x830 included): KVM's APIC", kSpec},
      {0x981, 0x984, V, V, kTme, "IA32_TME_CAPABILITY, TME_ACTIVATE, TME_EXCLUDE_MASK/BASE", kGpOrVe},
      {0x985, 0x98a, N, N, kXfamUli, "IA32_UINTR_RR..IA32_UINTR_TT", kGpWithout},
      {0xc80, 0xc80, N, V, kAlways, "IA32_DEBUG_INTERFACE: read natively, a write is a #VE", kTable},
      {0xd90, 0xd90, G, G, kAlways, "IA32_BNDCFGS (no MPX)", kGpAtExit},
      {0xd93, 0xd93, G, G, kAlways, "IA32_PASID", kGpAtExit},
      {0xda0, 0xda0, N, M, kAlways, "IA32_XSS: read natively; a write may set only bits the platform and XFAM allow",
       kMsrHandler},
      {0x1200, 0x12ff, N, N, kXfamLbr, "IA32_LBR_INFO_0..", kGpWithout},
      {0x14ce, 0x14cf, N, N, kXfamLbr, "IA32_LBR_CTL, IA32_LBR_DEPTH", kGpWithout},
      {0x1500, 0x16ff, N, N, kXfamLbr, "IA32_LBR_x_FROM_IP, IA32_LBR_x_TO_IP", kGpWithout},
      {0xc0000080, 0xc0000080, N, M, kAlways,
       "IA32_EFER: read natively; a write may change SCE only, any other change is a #VE", kMsrHandler},
      {0xc0000081, 0xc0000082, N, N, kAlways, "STAR, LSTAR", kTable},
      {0xc0000083, 0xc0000083, V, V, kAlways, "IA32_CSTAR (no compatibility-mode SYSCALL on Intel): the VMM's",
       kDefaultVe},
      {0xc0000084, 0xc0000084, N, N, kAlways, "FMASK", kTable},
      {0xc0000100, 0xc0000102, N, N, kAlways, "FS_BASE, GS_BASE, KERNEL_GS_BASE", kTable},
      {0xc0000103, 0xc0000103, N, N, kAlways, "IA32_TSC_AUX", kTable},
  };
  return rules;
}

MsrDecision td_msr_access(uint32_t msr, bool write, const MsrTdConfig& td) {
  const char* op = write ? "WRMSR" : "RDMSR";
  if (!in_bitmap(msr))
    return {MsrAccess::kVe, fmt::format("{} {:#x}: outside the MSR bitmap ranges (always #VE)", op, msr)};
  for (const MsrRule& r : td_msr_rules()) {
    if (msr < r.first || msr > r.last) continue;
    if (!td_has(r.feature, td))
      return {MsrAccess::kGp, fmt::format("{} {:#x} ({}): the TD has no {}", op, msr, r.what, r.feature.name)};
    const MsrAccess a = write ? r.write : r.read;
    return {a, a == MsrAccess::kNative ? std::string() : fmt::format("{} {:#x}: {}", op, msr, r.what)};
  }
  return {MsrAccess::kVe, fmt::format("{} {:#x}: not in the TDX module's MSR table (#VE without REDUCE_VE)", op, msr)};
}

}  // namespace tdsim::tdx
