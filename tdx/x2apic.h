// The x2APIC registers as KVM's in-kernel local APIC answers them for a TD's
// TDG.VP.VMCALL<RDMSR/WRMSR> (MSRs 0x800-0x8ff; SDM vol. 3, "x2APIC Register Address
// Space"): what each reads at reset and which ones a write may change. KVM keeps a TD's
// local APIC in the kernel, so these never reach the VMM. No interrupt is ever delivered
// here: the registers hold values only. Engine-free.
#pragma once
#include <cstdint>
#include <optional>

namespace tdsim::tdx {

inline constexpr uint32_t kX2apicFirst = 0x800, kX2apicLast = 0x8ff;
inline bool is_x2apic_msr(uint64_t msr) { return msr >= kX2apicFirst && msr <= kX2apicLast; }

// The register's value after reset on vCPU `vcpu` (its x2APIC ID); nullopt for an MSR
// of the range that is not a readable register (RDMSR raises #GP: KVM fails it).
std::optional<uint64_t> x2apic_reset_value(uint64_t msr, uint32_t vcpu);
// Whether WRMSR may write it (EOI and SELF IPI are write-only and keep nothing).
bool x2apic_writable(uint64_t msr);
bool x2apic_keeps_writes(uint64_t msr);

}  // namespace tdsim::tdx
