// The MSRs the TDX module answers itself (td_msr.h's kModule rows): its virtual values
// of IA32_MISC_ENABLE, IA32_ARCH_CAPABILITIES and IA32_PERF_CAPABILITIES, the TD's
// IA32_DEBUGCTL it keeps per vCPU, and the checks of a write to IA32_EFER or IA32_XSS. Each follows
// the module's handler in td_msr_access.c (rdmsr_ia32_* / wrmsr_ia32_*); where the real
// value starts from the host CPU's MSR, tdsim starts from a documented model of a
// Sapphire Rapids platform (docs/tdx-module-standin.md, "MSRs"). Engine-free.
#pragma once
#include <cstdint>

#include "td_msr.h"

namespace tdsim::tdx {

// The platform values the module reads at its initialisation, as tdsim models them.
inline constexpr uint64_t kModelMiscEnable = (1ull << 0) | (1ull << 11) | (1ull << 12);  // fast strings; no BTS, PEBS
inline constexpr uint64_t kModelArchCapabilities = 0x100e1ebull;
inline constexpr uint64_t kModelPerfCapabilities = 0x1f4c5ull;
// IA32_XSS components the platform supports (CPUID 0xd.1 ECX): PT, PASID, CET user and
// supervisor, UINTR, arch LBR.
inline constexpr uint64_t kModelXssSupported = (1ull << 8) | (1ull << 10) | (3ull << 11) | (1ull << 14) | (1ull << 15);

// EFER bits (SDM vol. 3, "IA32_EFER").
inline constexpr uint64_t kEferSce = 1ull << 0, kEferLma = 1ull << 10;

// What a vCPU's access needs beyond the TD configuration.
struct MsrVcpuState {
  uint64_t efer = 0;       // the vCPU's EFER now (a WRMSR of EFER compares with it)
  uint64_t* debugctl = nullptr;  // the vCPU's IA32_DEBUGCTL as the module keeps it
};

// RDMSR/WRMSR of an MSR whose rule is kModule. The result is kModule (the module
// completed the instruction: `value` for a read), kNative (a write of EFER that changes
// SCE only, or of XSS within what XFAM allows: the CPU performs it), or kVe/kGp with why.
MsrDecision virtual_msr_access(uint32_t msr, bool write, uint64_t value, const MsrTdConfig& td,
                               const MsrVcpuState& vcpu);

}  // namespace tdsim::tdx
