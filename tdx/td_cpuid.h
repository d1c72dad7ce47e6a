// The CPUID instruction in a TD: the native CPU the TDX module samples (a Sapphire Rapids
// class part, the first TDX generation), the module's virtualisation rules as data (one
// row per leaf or bit group, each with its source), the virtual values TDH.MNG.INIT
// computes from them and the TD's configuration, and what one CPUID execution returns:
// a value or a #VE. Engine-free; the rule table is restated in
// docs/tdx-module-standin.md, "CPUID".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cpuid_model.h"

namespace tdsim::tdx {

// What the module does with a group of bits of one register of one leaf.
enum class CpuidBits {
  kNative,        // the native CPU's value
  kFixed0,        // always 0
  kFixed1,        // always 1 (`value` holds the bits, the mask says which)
  kFixedValue,    // always `value` under the mask
  kConfigurable,  // the VMM's CPUID configuration (KVM_TDX_INIT_VM), limited to native bits
  kXfam,          // 1 when XFAM enables every component in `value`, and the CPU has it
  kAttribute,     // 1 when the TD ATTRIBUTES bit `value` is set, and the CPU has it
  kFromXfam,      // a value computed from XFAM (CPUID 0xd: enabled components, sizes)
  kDynamic,       // computed at each CPUID from the vCPU's state (see `what`)
};

struct CpuidRule {
  uint32_t leaf;
  uint32_t subleaf;  // CpuidModel::kAnySubleaf for leaves without sub-leaves
  uint8_t reg;       // 0 EAX, 1 EBX, 2 ECX, 3 EDX
  uint32_t mask;
  CpuidBits kind;
  uint64_t value;      // kFixed1/kFixedValue bits, kXfam components, kAttribute bit number
  const char* what;    // the bits, by name
  const char* source;  // spec section or module source file it follows
};

// Every virtualised leaf's rows; a leaf listed here is in the module's lookup table.
// Bits of a listed leaf that no row covers are fixed-0 (the module reserves them).
const std::vector<CpuidRule>& td_cpuid_rules();

// Leaves the module answers with a #VE unless the TD opted into REDUCE_VE or topology
// enumeration (td_cpuid.c): a TDX 1.0 TD has neither.
bool cpuid_leaf_always_ve(uint32_t leaf);

// The native CPU TDH.SYS.INIT samples: Sapphire Rapids (family 6 model 0x8f).
const CpuidModel& sapphire_rapids_native();

// TD ATTRIBUTES bits and XFAM components the rules refer to.
inline constexpr uint64_t kAttrDebug = 1ull << 0;
inline constexpr uint64_t kAttrSeptVeDisable = 1ull << 28;
inline constexpr uint64_t kAttrPks = 1ull << 30;
inline constexpr uint64_t kAttrPerfmon = 1ull << 63;
inline constexpr uint64_t kXfamX87Sse = 0x3, kXfamAvx = 0x4, kXfamAvx512 = 0xe0, kXfamPkru = 0x200,
                          kXfamAmx = 0x60000;

// The TD's configuration as TDH.MNG.INIT gets it.
struct TdCpuidConfig {
  uint64_t attributes = 0;
  uint64_t xfam = kXfamX87Sse;
  uint32_t gpaw = 48;
  // The VMM's CPUID configuration; nullopt = every configurable bit as the CPU has it
  // (what the selftests pass: KVM's supported CPUID filtered by the module's list).
  std::optional<CpuidModel> configured;
};

// The per-leaf virtual values (TDCS CPUID values) of a TD with `cfg` on `native`.
CpuidModel td_cpuid_values(const CpuidModel& native, const TdCpuidConfig& cfg);

// The vCPU state CPUID's dynamic bits follow.
struct CpuidVcpuState {
  uint32_t vcpu_index = 0;
  uint64_t cr4 = 0;
  uint64_t xcr0 = 1;
  bool long_mode = false;  // 64-bit mode (EFER.LMA and CS.L)
};

// One CPUID execution: the value, or nullopt and `ve_why` when the module raises #VE.
struct CpuidExecution {
  std::optional<CpuidValue> value;
  std::string ve_why;
};
CpuidExecution execute_td_cpuid(const CpuidModel& virt, uint32_t leaf, uint32_t subleaf,
                                const CpuidVcpuState& s);

// The XSAVE area size (standard format) for the components in `xcr0` (CPUID 0xd EBX/ECX).
uint32_t xsave_area_size(uint64_t xcr0);

}  // namespace tdsim::tdx
