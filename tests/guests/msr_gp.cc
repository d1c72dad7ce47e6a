// MSRs the TDX module answers with #GP(0) (features a TD does not have: the TME and DCA
// MSRs, IA32_UMWAIT_CONTROL without WAITPKG, IA32_XFD without XFAM AMX, IA32_PKRS without
// PKS, IA32_PMC0 without ATTRIBUTES.PERFMON, IA32_VMX_BASIC): the #GP arrives through the guest's IDT with
// RIP on the RDMSR/WRMSR, which the handler skips. Reports (stage 1) the #GPs
// taken, the last error code, how many #GPs had the MSR instruction's RIP, and what the
// first refused RDMSR left in EDX:EAX, and which instructions (bit n: the n-th, from 1)
// took one.
#include <stdint.h>

#include "ucall/guest/guest.h"

namespace {
volatile uint64_t g_gps = 0, g_error_code = ~0ull, g_rips_ok = 0;
volatile uint64_t g_expected_rip = 0;
volatile uint64_t g_site = 0, g_sites = 0;  // which MSR instruction (bit n: the n-th) took a #GP
void gp_handler(tdsim::guest::ExRegs* regs) {
  g_gps = g_gps + 1;
  g_error_code = regs->error_code;
  if (regs->rip == g_expected_rip) g_rips_ok = g_rips_ok + 1;
  g_sites = g_sites | (1ull << g_site);
  regs->rip += 2;  // 0F 32 / 0F 30
}

// RDMSR of `msr` with EDX:EAX = hi:lo before it; the handler compares RIP with the
// instruction's own address (the local label).
void rdmsr_at(uint32_t msr, uint32_t& lo, uint32_t& hi) {
  uint64_t at = 0;
  asm volatile("lea 1f(%%rip), %0" : "=r"(at));
  g_expected_rip = at;
  g_site = g_site + 1;
  asm volatile("1: rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
}

void wrmsr_at(uint32_t msr, uint64_t value) {
  uint64_t at = 0;
  asm volatile("lea 1f(%%rip), %0" : "=r"(at));
  g_expected_rip = at;
  g_site = g_site + 1;
  asm volatile("1: wrmsr" : : "a"(static_cast<uint32_t>(value)), "d"(static_cast<uint32_t>(value >> 32)), "c"(msr)
               : "memory");
}
}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(13, gp_handler);
  uint32_t lo = 0x1234, hi = 0x5678;
  rdmsr_at(0x982, lo, hi);    // IA32_TME_ACTIVATE
  wrmsr_at(0x1f8, 1);         // IA32_PLATFORM_DCA_CAP
  uint32_t l2 = 0, h2 = 0;
  rdmsr_at(0xe1, l2, h2);     // IA32_UMWAIT_CONTROL without WAITPKG
  rdmsr_at(0x1c4, l2, h2);    // IA32_XFD without XFAM AMX
  wrmsr_at(0x6e1, 0);         // IA32_PKRS without PKS
  rdmsr_at(0xc1, l2, h2);     // IA32_PMC0 without PERFMON (plain KVM's vPMU would answer it)
  rdmsr_at(0x480, l2, h2);    // IA32_VMX_BASIC: no VMX in a TDX 1.0 TD
  GUEST_SYNC_ARGS(1, g_gps, g_error_code, g_rips_ok, (uint64_t{hi} << 32) | lo, g_sites);
  GUEST_DONE();
}
