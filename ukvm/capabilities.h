// What the user-space KVM announces about itself: KVM_CHECK_EXTENSION answers, the CPUID
// KVM_GET_SUPPORTED_CPUID reports, and the TDX capabilities (KVM_TDX_CAPABILITIES). One
// place, so every fd kind and the docs' table (docs/userspace-kvm.md) agree.
#pragma once
#include <cstdint>
#include <vector>

#include "kvm/tdx_uapi.h"
#include "tdx/host_hooks.h"

namespace tdsim::ukvm {

inline constexpr int kApiVersion = 12;                // KVM_API_VERSION
inline constexpr int kVcpuMmapSize = 3 * 4096;        // kvm_run, PIO page, coalesced MMIO page
inline constexpr uint32_t kMaxVcpus = tdx::kKvmMaxVcpus;  // per TD (KVM_CAP_MAX_VCPUS): the KVM tdsim plays
inline constexpr uint32_t kMaxVcpuId = 64;            // vCPU ids 0..63 (KVM_CAP_MAX_VCPU_ID)
inline constexpr uint32_t kMaxMemslots = 32764;       // KVM_USER_MEM_SLOTS on x86
inline constexpr uint32_t kMaxCpuidEntries = 256;     // KVM_MAX_CPUID_ENTRIES
inline constexpr long kTscKhz = 2'000'000;            // the TD's TSC: 2 GHz
inline constexpr uint32_t kMaxReservedIoapicPins = 48;  // split irqchip's args[0] limit
inline constexpr uint64_t kExitHypercallValidMask = 1ull << 12;  // KVM_HC_MAP_GPA_RANGE

// TD attributes KVM lets userspace set: DEBUG (bit 0) and SEPT_VE_DISABLE (bit 28).
inline constexpr uint64_t kSupportedTdAttributes = (1ull << 0) | (1ull << 28);
// XFAM: x87 and SSE (both required) and AVX.
inline constexpr uint64_t kSupportedXfam = 0x7;
inline constexpr uint64_t kRequiredXfam = 0x3;
// TDG.VP.VMCALL<GetTdVmCallInfo> leaf 1 R11 bits userspace handles: GetQuote (bit 0),
// SetupEventNotifyInterrupt (bit 1).
inline constexpr uint64_t kUserTdvmcallInfoR11 = 0x3;

// KVM_CHECK_EXTENSION(cap) on /dev/kvm (vm == false) or a TD's fd; 0 for what is unknown.
long check_extension(long cap, bool vm);

// KVM_GET_SUPPORTED_CPUID's entries, sorted by (function, index).
std::vector<kvm::tdx::CpuidEntry2> supported_cpuid();
// KVM_TDX_CAPABILITIES' cpuid entries: the leaves (and bits) a TD's CPUID may configure.
std::vector<kvm::tdx::CpuidEntry2> configurable_cpuid();

// GPAW from the INIT_VM CPUID entry 0x80000008 EAX[23:16]: 48 or 52, 0 when neither.
uint32_t gpaw_from_cpuid(uint32_t eax);

}  // namespace tdsim::ukvm
