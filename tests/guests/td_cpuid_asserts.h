// Guest side (freestanding): the CPUID every TD guest may rely on, asserted — max basic
// leaf >= 0x21, "GenuineIntel", SSE3/SSSE3/SSE4.1/SSE4.2/x2APIC/XSAVE/hypervisor in leaf
// 1 ECX, NX and LM, the TD's GPAW in 0x80000008 EAX[23:16] and "IntelTDX    " in leaf
// 0x21. A failed assertion ends the guest with UCALL_ABORT.
#pragma once
#include <stdint.h>

#include "ucall/guest/guest.h"

namespace tdsim::test_guest {

inline void assert_td_cpuid() {
  using tdsim::guest::cpuid;
  const auto l0 = cpuid(0, 0);
  const auto l1 = cpuid(1, 0);
  const auto e1 = cpuid(0x80000001, 0);
  const auto e8 = cpuid(0x80000008, 0);
  const auto l21 = cpuid(0x21, 0);
  GUEST_ASSERT(l0.eax >= 0x21);
  GUEST_ASSERT(l0.ebx == 0x756e6547 && l0.edx == 0x49656e69 && l0.ecx == 0x6c65746e);  // GenuineIntel
  const uint32_t td_ecx = (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 26) | (1u << 31);
  GUEST_ASSERT_EQ(l1.ecx & td_ecx, td_ecx);
  GUEST_ASSERT_EQ(e1.edx & ((1u << 20) | (1u << 29)), (1u << 20) | (1u << 29));
  GUEST_ASSERT_EQ((e8.eax >> 16) & 0xff, tdsim::guest::gpaw());
  GUEST_ASSERT(l21.ebx == 0x65746e49 && l21.edx == 0x5844546c && l21.ecx == 0x20202020);
}

// The layout's shared MMIO window (LayoutSpec::shared_mmio_pages): the page after the
// ucall MMIO page; its GVA is the untagged GPA.
inline uint64_t shared_mmio_window() {
  const uint64_t mmio = tdsim::guest::ucall_mmio_gpa() & ~tdsim::guest::shared_bit();
  return (mmio & ~0xfffull) + 0x1000;
}

}  // namespace tdsim::test_guest
