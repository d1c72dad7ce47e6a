// The MSRs the TDX module answers itself, read and written by a TD guest: IA32_MISC_ENABLE,
// IA32_ARCH_CAPABILITIES and IA32_PERF_CAPABILITIES (its virtual values), IA32_DEBUGCTL
// (kept by the module: bit 13 dropped), and IA32_EFER, whose SCE a TD may change.
// None of these takes a #VE. Reports stage 1 (#VEs so far, MISC_ENABLE,
// ARCH_CAPABILITIES, PERF_CAPABILITIES) and stage 2 (DEBUGCTL after
// writing 0x2003, EFER before, EFER after toggling SCE, EFER after toggling it back),
// then changes EFER.NXE: the module's #VE, which the runtime's handler passes to the VMM
// with TDG.VP.VMCALL<Instruction.WRMSR>; KVM refuses, so the guest ends UNHANDLED(13)
// with exit reason 32 (WRMSR).
#include "tests/guests/msr_guest.h"

using namespace tdsim::test_guest;

namespace {
constexpr uint32_t kEfer = 0xc0000080;
}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, counting_ve_handler);
  const uint64_t misc = rdmsr(0x1a0), arch = rdmsr(0x10a), perf = rdmsr(0x345);
  GUEST_SYNC_ARGS(1, g_ves, misc, arch, perf);
  wrmsr(0x1d9, 0x2003);
  const uint64_t debugctl = rdmsr(0x1d9);
  const uint64_t efer = rdmsr(kEfer);
  wrmsr(kEfer, efer ^ 1);
  const uint64_t toggled = rdmsr(kEfer);
  wrmsr(kEfer, efer);
  const uint64_t back = rdmsr(kEfer);
  GUEST_SYNC_ARGS(2, debugctl, efer, toggled, back, g_ves);
  wrmsr(kEfer, efer ^ (1ull << 11));  // NXE: not a TD's to change
  GUEST_DONE();
}
