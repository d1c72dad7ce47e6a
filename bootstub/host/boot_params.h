// The two pages just below 4 GiB: the boot-parameters page at 0xffff0000 (what the
// stub reads) and the stub page at 0xfffff000 (stub ending at the reset vector, then the
// hand-written JMP rel8 + INT3). Pure data; validation lives in validate.h.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "tdsim/abi/td_boot.h"

namespace tdsim {

inline constexpr uint64_t kStubPageGpa = 0xfffff000;
// PE | NE | PG: the selftests' kvm_get_default_cr0().
inline constexpr uint32_t kDefaultCr0 = 0x80000021;
// PAE | MCE | OSFXSR. Not OSXSAVE: the plain-KVM backend cannot set CPUID here, so the
// guest may lack CPUID.XSAVE and MOV CR4 with OSXSAVE would #GP in the stub.
inline constexpr uint32_t kDefaultCr4 = 0x260;
inline constexpr uint32_t kCr4La57 = 0x1000;
// The CR4 a layout with `paging_levels` levels boots with: LA57 for 5.
constexpr uint32_t default_cr4(uint32_t paging_levels) { return kDefaultCr4 | (paging_levels == 5 ? kCr4La57 : 0); }

// 4096 bytes: the TdBootParams header, then per_vcpu[i] at 24 + 16 * i.
std::vector<uint8_t> params_page_bytes(const abi::TdBootParams& boot,
                                       const std::vector<abi::TdPerVcpuParams>& per_vcpu);

// GPA of the stub's first byte: it ends exactly at the reset vector.
inline uint64_t stub_gpa_for(uint64_t stub_size) { return abi::kResetVector - stub_size; }

// 4096 bytes for the page at kStubPageGpa: zero, the stub ending at 0xff0, then
// EB <256 - 2 - size> CC. The caller has checked 0 < size <= kMaxStubSize.
std::vector<uint8_t> stub_page_bytes(std::span<const uint8_t> stub);

}  // namespace tdsim
