// The TD's CPU as the TDX module presents it through the CPUID instruction: reports the
// values it reads, then asserts what every TD guest may rely on (max basic leaf >= 0x21,
// "GenuineIntel", SSE3/SSSE3/SSE4.1/SSE4.2/x2APIC/XSAVE, the hypervisor bit, NX and LM,
// "IntelTDX    " in leaf 0x21 and the TD's GPAW in 0x80000008 EAX[23:16]), then runs one
// general-register instruction of each leaf-1 ECX / leaf-7 EBX feature it was shown, as code built for the
// CPU it was told about would: a CPUID that promises what the CPU then refuses with #UD
// ends the run with the exception instead of DONE.
#include <stdint.h>

#include "tdsim/abi/tdx.h"
#include "tests/guests/td_cpuid_asserts.h"
#include "ucall/guest/guest.h"

namespace {

// Only the general-register instructions: guests hold no vector state (the runtime never
// saves it, and cmake/check_guest_elf.cmake rejects any xmm use).
void run_what_cpuid_promised(uint32_t l1_ecx, uint32_t l7_ebx) {
  if (l1_ecx & (1u << 20)) {                                                               // SSE4.2
    uint32_t crc = 0;
    asm volatile("crc32b %1, %0" : "+r"(crc) : "r"(static_cast<uint8_t>(1)));
    GUEST_ASSERT_EQ(crc, 0xf26b8303u);  // CRC-32C of the byte 0x01 from 0
  }
  if (l1_ecx & (1u << 23)) {                                                               // POPCNT
    uint64_t n = 0;
    asm volatile("popcnt %1, %0" : "=r"(n) : "r"(0xf0f0ull));
    GUEST_ASSERT_EQ(n, 8u);
  }
  if (l1_ecx & (1u << 22)) {                                                               // MOVBE
    const uint32_t v = 0x11223344;
    uint32_t swapped = 0;
    asm volatile("movbe %1, %0" : "=r"(swapped) : "m"(v));
    GUEST_ASSERT_EQ(swapped, 0x44332211u);
  }
  if (l1_ecx & (1u << 30)) {                                                               // RDRAND
    bool got = false;
    for (int i = 0; i < 16 && !got; ++i) {
      uint64_t r = 0;
      uint8_t ok = 0;
      asm volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok) :: "cc");
      got = ok != 0;
    }
    GUEST_ASSERT(got);
  }
  if (l7_ebx & (1u << 3)) {                                                                // BMI1
    uint64_t r = 0;
    asm volatile("andn %2, %1, %0" : "=r"(r) : "r"(0x0full), "r"(0xffull));  // ~0x0f & 0xff
    GUEST_ASSERT_EQ(r, 0xf0u);
  }
  if (l7_ebx & (1u << 19)) {                                                               // ADX
    uint64_t a = 1;
    asm volatile("clc; adcx %1, %0" : "+r"(a) : "r"(2ull) : "cc");
    GUEST_ASSERT_EQ(a, 3u);
  }
}

}  // namespace

void guest_main(uint32_t) {
  using tdsim::guest::cpuid;
  const auto l0 = cpuid(0, 0);
  const auto l1 = cpuid(1, 0);
  const auto e1 = cpuid(0x80000001, 0);
  const auto e8 = cpuid(0x80000008, 0);
  GUEST_SYNC_ARGS(1, l0.eax, l1.ecx, e1.edx, e8.eax);
  tdsim::test_guest::assert_td_cpuid();
  // Stage 2: every CPUID assertion held; what follows runs the instructions it promised.
  const uint32_t l7_ebx = cpuid(7, 0).ebx;
  GUEST_SYNC_ARGS(2, l7_ebx);
  run_what_cpuid_promised(l1.ecx, l7_ebx);
  GUEST_DONE();
}
