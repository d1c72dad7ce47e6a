// Port I/O in a TD: every IN/OUT is a #VE. With the runtime's #VE handler installed the
// accesses reach the VMM (TDG.VP.VMCALL<Instruction.IO>) and the guest carries on with
// the values read; a second #VE before the first one's information is read is a #DF;
// without a handler the default reports UCALL_UNHANDLED(20).
#include <stdint.h>

#include "ucall/guest/guest.h"

namespace {

uint8_t in8_imm() {
  uint8_t v;
  asm volatile("movl $0x12345678, %%eax\n\tinb $0x71, %%al" : "=a"(v));
  return v;
}
uint64_t in16_dx_keeps_upper() {
  uint64_t rax = 0xaaaabbbbccccddddull;
  asm volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(0x1f0));
  return rax;
}
uint64_t in32_zero_extends() {
  uint64_t rax = 0xffffffffffffffffull;
  asm volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(0xcfc));
  return rax;
}

}  // namespace

void guest_main(uint32_t) {
  tdsim::guest::install_exception_handler(20, tdsim_ve_handler);
  asm volatile("outb %%al, $0x80" : : "a"(0x5a));
  asm volatile("outl %%eax, %%dx" : : "a"(0x80000010u), "d"(0xcf8));
  const uint8_t a = in8_imm();
  const uint64_t b = in16_dx_keeps_upper();
  const uint64_t c = in32_zero_extends();
  GUEST_SYNC_ARGS(1, a, b, c);
  // No handler: the default handler reports the #VE and the vCPU ends.
  tdsim::guest::install_exception_handler(20, nullptr);
  asm volatile("outb %%al, $0x81" : : "a"(0));
  GUEST_FAIL("the OUT without a #VE handler went on");
}
