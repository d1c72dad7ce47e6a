// MSRs the TDX module answers with #GP(0) (the TME and DCA MSRs: features a TD does not
// have): the #GP arrives through the guest's IDT with RIP on the RDMSR/WRMSR, which the
// handler skips. Reports (stage 1) the #GPs taken, the last error code, and whether each
// #GP's RIP was the MSR instruction's.
#include <stdint.h>

#include "ucall/guest/guest.h"

extern "C" const char tdsim_test_rdmsr_tme[], tdsim_test_wrmsr_dca[];

namespace {
volatile uint64_t g_gps = 0, g_error_code = ~0ull, g_rips_ok = 0;
volatile uint64_t g_expected_rip = 0;
void gp_handler(tdsim::guest::ExRegs* regs) {
  g_gps = g_gps + 1;
  g_error_code = regs->error_code;
  if (regs->rip == g_expected_rip) g_rips_ok = g_rips_ok + 1;
  regs->rip += 2;  // 0F 32 / 0F 30
}
}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(13, gp_handler);
  uint32_t lo = 0x1234, hi = 0x5678;
  g_expected_rip = reinterpret_cast<uint64_t>(tdsim_test_rdmsr_tme);
  asm volatile(".globl tdsim_test_rdmsr_tme\ntdsim_test_rdmsr_tme: rdmsr" : "+a"(lo), "+d"(hi) : "c"(0x982) : "memory");
  g_expected_rip = reinterpret_cast<uint64_t>(tdsim_test_wrmsr_dca);
  asm volatile(".globl tdsim_test_wrmsr_dca\ntdsim_test_wrmsr_dca: wrmsr" : : "a"(1), "d"(0), "c"(0x1f8) : "memory");
  GUEST_SYNC_ARGS(1, g_gps, g_error_code, g_rips_ok, (uint64_t{hi} << 32) | lo);
  GUEST_DONE();
}
