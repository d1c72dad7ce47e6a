// Instructions the TDX module's VM-exit dispatcher does not let a TD run
// (tdx/td_instructions.h). Built twice: as guest_td_insns_ud, MONITOR, MWAIT, VMXOFF and
// GETSEC, each of which the module makes a #UD — a #UD handler counts them and steps over
// each; as guest_td_insns_ve (TDSIM_TD_INSNS_VE), WBINVD, INVD and VMCALL, which it sends
// to its generic #VE path — a #VE handler reads TDG.VP.VEINFO.GET and steps over each by
// the instruction length the module reports.
#include <stdint.h>

#include "tdsim/abi/tdx.h"
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

namespace {

#ifndef TDSIM_TD_INSNS_VE
volatile uint64_t g_skip;  // the length of the instruction about to fault
volatile uint64_t g_uds;

void on_ud(tdsim::guest::ExRegs* regs) {
  g_uds = g_uds + 1;
  regs->rip += g_skip;
}
#else
volatile uint64_t g_ves;
volatile uint64_t g_reasons, g_lengths, g_quals;  // one byte per #VE, in order

void on_ve(tdsim::guest::ExRegs* regs) {
  tdsim::guest::TdcallAll info;
  info.rax = tdsim::abi::kTdgVpVeinfoGet;
  tdsim::guest::tdcall_all(info);
  GUEST_ASSERT_EQ(info.rax, 0);
  const uint64_t shift = 8 * g_ves;
  g_reasons = g_reasons | ((info.rcx & 0xff) << shift);
  g_quals = g_quals | ((info.rdx & 0xff) << shift);
  g_lengths = g_lengths | ((info.r10 & 0xff) << shift);
  g_ves = g_ves + 1;
  regs->rip += static_cast<uint32_t>(info.r10);
}
#endif

}  // namespace

void guest_main(uint32_t) {
#ifndef TDSIM_TD_INSNS_VE
  tdsim::guest::install_exception_handler(6, on_ud);
  g_skip = 3;
  asm volatile("monitor" ::"a"(&g_skip), "c"(0), "d"(0) : "memory");
  g_skip = 3;
  asm volatile("mwait" ::"a"(0), "c"(0) : "memory");
  g_skip = 3;
  asm volatile("vmxoff" ::: "cc", "memory");
  g_skip = 2;
  asm volatile("getsec" ::"a"(0) : "rbx", "rcx", "memory");
  GUEST_SYNC_ARGS(1, g_uds);
#else
  tdsim::guest::install_exception_handler(20, on_ve);
  asm volatile("wbinvd" ::: "memory");
  asm volatile("invd" ::: "memory");
  uint64_t rax = 0;
  asm volatile("vmcall" : "+a"(rax)::"memory");
  GUEST_SYNC_ARGS(2, g_ves, g_reasons, g_quals, g_lengths);
#endif
  GUEST_DONE();
}
