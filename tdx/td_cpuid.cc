#include "td_cpuid.h"

#include <fmt/format.h>

#include <algorithm>

namespace tdsim::tdx {

namespace {

constexpr uint32_t kAny = CpuidModel::kAnySubleaf;
constexpr uint32_t bit(int n) { return 1u << n; }

// Where each row comes from. td_cpuid.c is the TDX module's CPUID exit handler (public
// source); the spec is Intel's TDX Module Base Architecture Specification, chapter
// "CPUID Virtualization".
constexpr const char* kSpec = "TDX module spec, CPUID virtualization";
constexpr const char* kExitHandler = "TDX module td_cpuid.c";
constexpr const char* kSdm = "Intel SDM vol. 2A, CPUID";

// XSAVE state components a TD may enable through XFAM: (component, size, standard-format
// offset), as a Sapphire Rapids CPU reports them in CPUID 0xd sub-leaves 2..18.
struct XsaveComponent {
  uint32_t id, size, offset;
  bool supervisor;
};
constexpr XsaveComponent kXsaveComponents[] = {
    {2, 256, 576, false},    // AVX (YMM_Hi128)
    {5, 64, 1088, false},    // AVX-512 opmask
    {6, 512, 1152, false},   // AVX-512 ZMM_Hi256
    {7, 1024, 1664, false},  // AVX-512 Hi16_ZMM
    {8, 128, 0, true},       // PT (supervisor: offset 0, compacted only)
    {9, 8, 2688, false},     // PKRU
    {11, 16, 0, true},       // CET_U
    {12, 24, 0, true},       // CET_S
    {17, 64, 2752, false},   // AMX XTILECFG
    {18, 8192, 2816, false}, // AMX XTILEDATA
};
constexpr uint64_t kXsaveUserMask = 0x602e7;  // x87, SSE, AVX, AVX-512, PKRU, AMX
constexpr uint64_t kXsaveSupervisorMask = 0x1900;  // PT, CET_U, CET_S

uint32_t& reg_of(CpuidValue& v, uint8_t r) {
  switch (r) {
    case 0: return v.eax;
    case 1: return v.ebx;
    case 2: return v.ecx;
    default: return v.edx;
  }
}

CpuidModel make_native() {
  CpuidModel m;
  // Max basic leaf 0x20; "GenuineIntel" in EBX, EDX, ECX.
  m.set(0, kAny, {0x20, 0x756e6547, 0x6c65746e, 0x49656e69});
  // Family 6 model 0x8f stepping 8; CLFLUSH line 8 quadwords, 128 logical IDs.
  m.set(1, kAny, {0x000806f8, 0x00800800, 0x7ffefbff, 0xbfebfbff});
  m.set(7, 0, {2,
               bit(0) | bit(3) | bit(4) | bit(5) | bit(7) | bit(8) | bit(9) | bit(10) | bit(11) | bit(12) |
                   bit(15) | bit(16) | bit(17) | bit(18) | bit(19) | bit(20) | bit(21) | bit(23) | bit(24) |
                   bit(25) | bit(28) | bit(29) | bit(30) | bit(31),
               bit(1) | bit(2) | bit(3) | bit(5) | bit(6) | bit(7) | bit(8) | bit(9) | bit(10) | bit(11) |
                   bit(12) | bit(13) | bit(14) | bit(16) | bit(22) | bit(24) | bit(25) | bit(27) | bit(28) |
                   bit(29) | bit(31),
               bit(4) | bit(8) | bit(10) | bit(14) | bit(16) | bit(18) | bit(20) | bit(22) | bit(23) |
                   bit(24) | bit(25) | bit(26) | bit(27) | bit(28) | bit(29) | bit(30) | bit(31)});
  m.set(7, 1, {bit(4) | bit(5), 0, 0, 0});  // AVX-VNNI, AVX512_BF16
  m.set(0xd, 0, {static_cast<uint32_t>(kXsaveUserMask), 0, xsave_area_size(kXsaveUserMask), 0});
  m.set(0xd, 1, {0x1f, 0, static_cast<uint32_t>(kXsaveSupervisorMask), 0});  // XSAVEOPT..XSAVES, XFD
  for (const XsaveComponent& c : kXsaveComponents)
    m.set(0xd, c.id, {c.size, c.offset, c.supervisor ? 1u : 0u, 0});
  m.set(0x80000000, kAny, {0x80000008, 0, 0, 0});
  m.set(0x80000001, kAny, {0, 0, bit(0) | bit(5) | bit(8), bit(11) | bit(20) | bit(26) | bit(27) | bit(29)});
  m.set(0x80000006, kAny, {0, 0, 0x08007040, 0});  // 2 MiB L2, 64-byte lines
  m.set(0x80000007, kAny, {0, 0, 0, bit(8)});     // invariant TSC
  // 52 physical and 57 linear address bits (LA57 capable).
  m.set(0x80000008, kAny, {0x3934, bit(9), 0, 0});
  return m;
}

std::vector<CpuidRule> make_rules() {
  using K = CpuidBits;
  return {
      // Leaf 0.
      {0, kAny, 0, ~0u, K::kFixedValue, 0x21, "max basic leaf 0x21: the TDX leaf is in range", kSpec},
      {0, kAny, 1, ~0u, K::kNative, 0, "vendor \"Genu\"", kSdm},
      {0, kAny, 2, ~0u, K::kNative, 0, "vendor \"ntel\"", kSdm},
      {0, kAny, 3, ~0u, K::kNative, 0, "vendor \"ineI\"", kSdm},
      // Leaf 1.
      {1, kAny, 0, ~0u, K::kNative, 0, "family/model/stepping (TDH.SYS.INIT's sample)", kSpec},
      {1, kAny, 1, 0x0000ffff, K::kNative, 0, "brand index, CLFLUSH line size", kSpec},
      {1, kAny, 1, 0x00ff0000, K::kConfigurable, 0, "max addressable logical processor IDs", kSpec},
      {1, kAny, 1, 0xff000000, K::kDynamic, 0, "initial APIC ID = the vCPU index (no topology enumeration)", kExitHandler},
      {1, kAny, 2, bit(0) | bit(1) | bit(9) | bit(13) | bit(19) | bit(20) | bit(22) | bit(23) | bit(25) | bit(30),
       K::kNative, 0, "SSE3, PCLMULQDQ, SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, AES, RDRAND", kSpec},
      {1, kAny, 2, bit(12) | bit(28) | bit(29), K::kXfam, kXfamAvx, "FMA, AVX, F16C: with XFAM AVX", kSpec},
      {1, kAny, 2, bit(3) | bit(5) | bit(6) | bit(7) | bit(8) | bit(18), K::kFixed0, 0,
       "MONITOR, VMX, SMX, EST, TM2, DCA: not for a TD", kExitHandler},
      {1, kAny, 2, bit(24), K::kConfigurable, 0, "TSC deadline timer", kExitHandler},
      {1, kAny, 2, bit(21) | bit(26) | bit(31), K::kFixed1, bit(21) | bit(26) | bit(31),
       "x2APIC, XSAVE, hypervisor present", kSpec},
      {1, kAny, 2, bit(27), K::kDynamic, 0, "OSXSAVE = the vCPU's CR4.OSXSAVE", kExitHandler},
      {1, kAny, 3, 0xbfebfbff & ~(bit(7) | bit(12) | bit(14) | bit(22) | bit(29)), K::kNative, 0,
       "FPU .. SSE2, the baseline x86-64 set (TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, CLFSH, FXSR, ...)", kSpec},
      {1, kAny, 3, bit(7) | bit(12) | bit(14), K::kFixed1, bit(7) | bit(12) | bit(14),
       "MCE, MTRR, MCA: supported (the TD did not turn them off)", kExitHandler},
      {1, kAny, 3, bit(22) | bit(29), K::kFixed0, 0, "ACPI thermal, TM: not for a TD", kExitHandler},
      // Leaf 7 sub-leaf 0.
      {7, 0, 0, ~0u, K::kNative, 0, "max sub-leaf", kSpec},
      {7, 0, 1, bit(0) | bit(3) | bit(7) | bit(8) | bit(9) | bit(10) | bit(18) | bit(19) | bit(20) | bit(23) | bit(24) | bit(29),
       K::kNative, 0, "FSGSBASE, BMI1, SMEP, BMI2, ERMS, INVPCID, RDSEED, ADX, SMAP, CLFLUSHOPT, CLWB, SHA", kSpec},
      {7, 0, 1, bit(4) | bit(11), K::kConfigurable, 0, "HLE, RTM (TSX)", kSpec},
      {7, 0, 1, bit(5), K::kXfam, kXfamAvx, "AVX2: with XFAM AVX", kSpec},
      {7, 0, 1, bit(16) | bit(17) | bit(21) | bit(28) | bit(30) | bit(31), K::kXfam, kXfamAvx512,
       "AVX512F, DQ, IFMA, CD, BW, VL: with XFAM AVX-512", kSpec},
      {7, 0, 1, bit(12) | bit(15), K::kFixed0, 0, "RDT monitoring and allocation", kExitHandler},
      {7, 0, 1, bit(25), K::kFixed0, 0, "Intel PT (XFAM PT not modelled)", kSpec},
      {7, 0, 2, bit(1) | bit(6) | bit(11) | bit(12) | bit(14), K::kXfam, kXfamAvx512,
       "AVX512_VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ: with XFAM AVX-512", kSpec},
      {7, 0, 2, bit(8) | bit(9) | bit(10), K::kXfam, kXfamAvx, "GFNI, VAES, VPCLMULQDQ: with XFAM AVX", kSpec},
      {7, 0, 2, bit(2) | bit(16) | bit(22) | bit(24) | bit(25) | bit(27) | bit(28), K::kNative, 0,
       "UMIP, LA57, RDPID, bus-lock detect, CLDEMOTE, MOVDIRI, MOVDIR64B", kSpec},
      {7, 0, 2, bit(3), K::kXfam, kXfamPkru, "PKU: with XFAM PKRU", kSpec},
      {7, 0, 2, bit(4), K::kDynamic, 0, "OSPKE = the vCPU's CR4.PKE", kExitHandler},
      {7, 0, 2, bit(13), K::kFixed0, 0, "TME", kExitHandler},
      {7, 0, 2, bit(31), K::kAttribute, 30, "PKS: with ATTRIBUTES.PKS", kSpec},
      {7, 0, 3, bit(4) | bit(10) | bit(14) | bit(16) | bit(26) | bit(27) | bit(28) | bit(31), K::kNative, 0,
       "FSRM, MD_CLEAR, SERIALIZE, TSXLDTRK, IBRS, STIBP, L1D_FLUSH, SSBD", kSpec},
      {7, 0, 3, bit(8) | bit(23), K::kXfam, kXfamAvx512, "AVX512_VP2INTERSECT, AVX512_FP16: with XFAM AVX-512", kSpec},
      {7, 0, 3, bit(22) | bit(24) | bit(25), K::kXfam, kXfamAmx, "AMX-BF16, AMX-TILE, AMX-INT8: with XFAM AMX", kSpec},
      {7, 0, 3, bit(18), K::kFixed0, 0, "PCONFIG", kExitHandler},
      {7, 0, 3, bit(29) | bit(30), K::kFixed1, bit(29) | bit(30), "IA32_ARCH_CAPABILITIES, IA32_CORE_CAPABILITIES", kSpec},
      // Leaf 7 sub-leaf 1.
      {7, 1, 0, bit(4) | bit(5), K::kXfam, kXfamAvx512, "AVX-VNNI, AVX512_BF16: with XFAM AVX-512", kSpec},
      // Leaf 0xd: XSAVE, driven by XFAM.
      {0xd, 0, 0, ~0u, K::kFromXfam, 0, "XCR0 bits the TD may set = XFAM's user components", kSpec},
      {0xd, 0, 1, ~0u, K::kDynamic, 0, "XSAVE area size for the vCPU's current XCR0", kExitHandler},
      {0xd, 0, 2, ~0u, K::kFromXfam, 0, "XSAVE area size for every XFAM user component", kSpec},
      {0xd, 1, 0, 0xf, K::kNative, 0, "XSAVEOPT, XSAVEC, XGETBV1, XSAVES", kSpec},
      // XFD exists for AMX's XTILEDATA: the TD sees it with XFAM AMX (and then IA32_XFD/XFD_ERR).
      {0xd, 1, 0, bit(4), K::kXfam, kXfamAmx, "XFD: with XFAM AMX", kSpec},
      {0xd, 1, 1, ~0u, K::kDynamic, 0, "XSAVE area size for the vCPU's current XCR0", kExitHandler},
      {0xd, 1, 2, ~0u, K::kFromXfam, 0, "IA32_XSS bits the TD may set = XFAM's supervisor components", kSpec},
      {0xd, kAny, 0, ~0u, K::kFromXfam, 0, "sub-leaf n >= 2: component n's size when XFAM enables it, else 0", kSpec},
      {0xd, kAny, 1, ~0u, K::kFromXfam, 0, "component n's offset when XFAM enables it", kSpec},
      {0xd, kAny, 2, ~0u, K::kFromXfam, 0, "component n's flags when XFAM enables it", kSpec},
      // Leaf 0x21: the TDX leaf.
      {0x21, 0, 0, ~0u, K::kFixedValue, 0, "0", kSpec},
      {0x21, 0, 1, ~0u, K::kFixedValue, 0x65746e49, "\"Inte\"", kSpec},
      {0x21, 0, 2, ~0u, K::kFixedValue, 0x20202020, "\"    \"", kSpec},
      {0x21, 0, 3, ~0u, K::kFixedValue, 0x5844546c, "\"lTDX\"", kSpec},
      // Extended leaves.
      {0x80000000, kAny, 0, ~0u, K::kNative, 0, "max extended leaf", kSdm},
      {0x80000001, kAny, 2, bit(0) | bit(5) | bit(8), K::kNative, 0, "LAHF/SAHF, LZCNT, PREFETCHW", kSpec},
      {0x80000001, kAny, 3, bit(20) | bit(29), K::kFixed1, bit(20) | bit(29), "NX, LM", kSpec},
      {0x80000001, kAny, 3, bit(26) | bit(27), K::kNative, 0, "1 GiB pages, RDTSCP", kSpec},
      {0x80000001, kAny, 3, bit(11), K::kDynamic, 0, "SYSCALL/SYSRET: 1 in 64-bit mode only", kExitHandler},
      {0x80000006, kAny, 2, ~0u, K::kNative, 0, "L2 cache", kSdm},
      {0x80000007, kAny, 3, bit(8), K::kFixed1, bit(8), "invariant TSC", kSpec},
      {0x80000008, kAny, 0, 0x0000ffff, K::kNative, 0, "physical and linear address bits", kSpec},
      {0x80000008, kAny, 0, 0x00ff0000, K::kConfigurable, 0, "guest physical address width = the TD's GPAW", kSpec},
      {0x80000008, kAny, 1, bit(9), K::kNative, 0, "WBNOINVD", kSpec},
  };
}

bool has_components(uint64_t xfam, uint64_t needed) { return (xfam & needed) == needed; }

uint32_t from_xfam(const CpuidModel& native, uint32_t subleaf, uint8_t reg, uint64_t xfam) {
  const uint64_t supported = (uint64_t{native.answer(0xd, 0).edx} << 32 | native.answer(0xd, 0).eax) |
                             (uint64_t{native.answer(0xd, 1).edx} << 32 | native.answer(0xd, 1).ecx);
  const uint64_t enabled = xfam & supported;
  if (subleaf == 0) return reg == 0 ? static_cast<uint32_t>(enabled & kXsaveUserMask)
                                    : xsave_area_size(enabled & kXsaveUserMask);
  if (subleaf == 1) return static_cast<uint32_t>(enabled & kXsaveSupervisorMask);
  if (subleaf >= 64 || !((enabled >> subleaf) & 1)) return 0;
  CpuidValue comp = native.answer(0xd, subleaf);
  return reg_of(comp, reg);
}

}  // namespace

const std::vector<CpuidRule>& td_cpuid_rules() {
  static const std::vector<CpuidRule> rules = make_rules();
  return rules;
}

bool cpuid_leaf_always_ve(uint32_t leaf) {
  switch (leaf) {
    case 0x2: case 0x6: case 0x9: case 0xb: case 0xc: case 0xf: case 0x10: case 0x16: case 0x17:
    case 0x1b: case 0x1f: case 0x80000002: case 0x80000003: case 0x80000004: case 0x80000005:
      return true;
    default:
      return leaf >= 0x40000000 && leaf <= 0x4fffffff;
  }
}

const CpuidModel& sapphire_rapids_native() {
  static const CpuidModel m = make_native();
  return m;
}

uint32_t xsave_area_size(uint64_t xcr0) {
  uint32_t size = 576;  // legacy area + XSAVE header
  for (const XsaveComponent& c : kXsaveComponents)
    if (!c.supervisor && ((xcr0 >> c.id) & 1)) size = std::max(size, c.offset + c.size);
  return size;
}

CpuidModel td_cpuid_values(const CpuidModel& native, const TdCpuidConfig& cfg) {
  CpuidModel configured = cfg.configured ? *cfg.configured : native;
  {
    CpuidValue a = configured.answer(0x80000008, 0);
    a.eax = (a.eax & ~0x00ff0000u) | ((cfg.gpaw & 0xff) << 16);
    configured.set(0x80000008, CpuidModel::kAnySubleaf, a);
  }
  CpuidModel out;
  // Sub-leaves of 0xd are listed one by one: the generic rows apply to each component.
  std::vector<std::pair<uint32_t, uint32_t>> keys;
  for (const CpuidRule& r : td_cpuid_rules()) {
    if (r.leaf == 0xd && r.subleaf == CpuidModel::kAnySubleaf) continue;
    keys.emplace_back(r.leaf, r.subleaf);
  }
  for (const XsaveComponent& c : kXsaveComponents) keys.emplace_back(0xd, c.id);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const auto& [leaf, sub] : keys) {
    CpuidValue v;
    CpuidValue nn = native.answer(leaf, sub == CpuidModel::kAnySubleaf ? 0 : sub);
    CpuidValue cc = configured.answer(leaf, sub == CpuidModel::kAnySubleaf ? 0 : sub);
    for (const CpuidRule& r : td_cpuid_rules()) {
      const bool generic_0xd = r.leaf == 0xd && r.subleaf == CpuidModel::kAnySubleaf && sub >= 2;
      if (r.leaf != leaf || (r.subleaf != sub && !generic_0xd)) continue;
      uint32_t& dst = reg_of(v, r.reg);
      const uint32_t nat = reg_of(nn, r.reg) & r.mask;
      uint32_t bits = 0;
      switch (r.kind) {
        case CpuidBits::kNative: bits = nat; break;
        case CpuidBits::kFixed0: bits = 0; break;
        case CpuidBits::kFixed1:
        case CpuidBits::kFixedValue: bits = static_cast<uint32_t>(r.value); break;
        case CpuidBits::kConfigurable: bits = reg_of(cc, r.reg); break;
        case CpuidBits::kXfam: bits = has_components(cfg.xfam, r.value) ? nat : 0; break;
        case CpuidBits::kAttribute: bits = ((cfg.attributes >> r.value) & 1) ? nat : 0; break;
        case CpuidBits::kFromXfam: bits = from_xfam(native, sub, r.reg, cfg.xfam); break;
        case CpuidBits::kDynamic: bits = 0; break;  // execute_td_cpuid fills it in
      }
      dst = (dst & ~r.mask) | (bits & r.mask);
    }
    out.set(leaf, sub, v);
  }
  return out;
}

CpuidExecution execute_td_cpuid(const CpuidModel& virt, uint32_t leaf, uint32_t subleaf,
                                const CpuidVcpuState& s) {
  CpuidExecution out;
  if (leaf >= 0x40000000 && leaf <= 0x4fffffff) {
    out.ve_why = fmt::format("CPUID leaf {:#x} is in the hypervisor range 0x40000000-0x4fffffff (always #VE)", leaf);
    return out;
  }
  // A leaf above its range's maximum reads as the maximum basic leaf (as a CPU does).
  const uint32_t max_basic = virt.answer(0, 0).eax;
  const uint32_t max_ext = virt.answer(0x80000000, 0).eax;
  if (leaf > max_ext || (leaf > max_basic && leaf < 0x80000000)) leaf = max_basic;
  if (cpuid_leaf_always_ve(leaf)) {
    out.ve_why = fmt::format("CPUID leaf {:#x} raises #VE in a TD without REDUCE_VE or topology enumeration", leaf);
    return out;
  }
  std::optional<CpuidValue> v = virt.find(leaf, subleaf);
  if (!v && leaf == 0xd) v = CpuidValue{};  // a component this CPU lacks: all zero
  if (!v) {
    out.ve_why = fmt::format("CPUID leaf {:#x} sub-leaf {:#x} is not in the TDX module's CPUID table", leaf, subleaf);
    return out;
  }
  switch (leaf) {
    case 1:
      v->ebx = (v->ebx & 0x00ffffffu) | ((s.vcpu_index & 0xff) << 24);
      v->ecx = (v->ecx & ~(1u << 27)) | (((s.cr4 >> 18) & 1) ? 1u << 27 : 0);
      break;
    case 7:
      if (subleaf == 0) v->ecx = (v->ecx & ~(1u << 4)) | (((s.cr4 >> 22) & 1) ? 1u << 4 : 0);
      break;
    case 0xd:
      if (subleaf <= 1) v->ebx = xsave_area_size(s.xcr0);
      break;
    case 0x80000001:
      v->edx = (v->edx & ~(1u << 11)) | (s.long_mode ? 1u << 11 : 0);
      break;
    default:
      break;
  }
  out.value = v;
  return out;
}

}  // namespace tdsim::tdx
