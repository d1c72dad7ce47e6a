// MMIO by plain MOV in a TD: the layout's shared MMIO window (LayoutSpec::
// shared_mmio_pages) is mapped with the shared bit and nothing backs it, so each access
// is an EPT violation the TD takes as a #VE; the runtime's #VE handler decodes the
// instruction and asks the VMM with TDG.VP.VMCALL<#VE.RequestMMIO>. Writes of every width
// (register, high-byte register, immediate) go to the window's first page; then the
// guest reports (stage 1) the reads of every width and form and (stage 2) the #VEs taken
// and the last #VE's information; without a handler the default reports UNHANDLED(20).
#include <stdint.h>

#include "tests/guests/td_cpuid_asserts.h"
#include "ucall/guest/guest.h"

namespace {

volatile uint64_t g_ves = 0;
void counting_ve_handler(tdsim::guest::ExRegs* regs) {
  g_ves = g_ves + 1;
  tdsim_ve_handler(regs);
}

void writes(uint64_t w) {
  asm volatile("movb %b0, (%1)" : : "q"(0x11), "r"(w + 0x00) : "memory");
  asm volatile("movw %w0, 0x2(%1)" : : "r"(0x2222), "r"(w) : "memory");
  asm volatile("movl %k0, 0x4(%1)" : : "r"(0x33333333), "r"(w) : "memory");
  asm volatile("movq %0, 0x8(%1)" : : "r"(0x4444444444444444ull), "r"(w) : "memory");
  asm volatile("movb %%ah, 0x10(%0)" : : "r"(w), "a"(0x9900) : "memory");
  asm volatile("movq %0, %%r9\n\tmovb %%r9b, 0x11(%1)" : : "r"(0x77ull), "r"(w) : "r9", "memory");
  asm volatile("movb $0x55, 0x18(%0)" : : "r"(w) : "memory");
  asm volatile("movw $0x6666, 0x1a(%0)" : : "r"(w) : "memory");
  asm volatile("movl $0x77777777, 0x1c(%0)" : : "r"(w) : "memory");
  asm volatile("movq $-2, 0x20(%0)" : : "r"(w) : "memory");
}

}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, counting_ve_handler);
  const uint64_t w = tdsim::test_guest::shared_mmio_window();
  writes(w);
  uint64_t r8 = 0xaaaaaaaaaaaaaaaaull, r16 = 0xaaaaaaaaaaaaaaaaull, r32 = 0xaaaaaaaaaaaaaaaaull, r64 = 0;
  uint64_t zx = 0xaaaaaaaaaaaaaaaaull, sx = 0;
  asm volatile("movb 0x40(%1), %b0" : "+q"(r8) : "r"(w) : "memory");
  asm volatile("movw 0x48(%1), %w0" : "+r"(r16) : "r"(w) : "memory");
  asm volatile("movl 0x50(%1), %k0" : "+r"(r32) : "r"(w) : "memory");
  asm volatile("movq 0x58(%1), %0" : "=r"(r64) : "r"(w) : "memory");
  asm volatile("movzwq 0x60(%1), %0" : "=r"(zx) : "r"(w) : "memory");
  asm volatile("movsbq 0x68(%1), %0" : "=r"(sx) : "r"(w) : "memory");
  GUEST_SYNC_ARGS(1, r8, r16, r32, r64, zx, sx);
  tdsim::guest::VeRecord ve;
  tdsim_ve_last(&ve);
  GUEST_SYNC_ARGS(2, g_ves, ve.exit_reason, ve.qualification, ve.gla, ve.gpa);
  // No handler: the default handler reports the #VE and the vCPU ends.
  tdsim::guest::install_exception_handler(20, nullptr);
  asm volatile("movl %k0, 0x70(%1)" : : "r"(1), "r"(w) : "memory");
  GUEST_FAIL("the MMIO write without a #VE handler went on");
}
