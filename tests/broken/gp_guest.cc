// Loads from a non-canonical address: #GP(0) in 64-bit mode. Run with the boot
// parameters' IDTR limit set to 0 (no IDT), a CPU cannot deliver it and shuts down
// (triple fault); the report must name the missing IDT.
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
  GUEST_SYNC(1);
  // movabs: a plain mov with a 64-bit absolute operand is silently truncated to disp32
  // by clang's assembler (GNU as picks movabs itself).
  asm volatile(".globl tdsim_test_gp_site\n"
               "tdsim_test_gp_site: movabsq 0x8000000000000000, %%rax" ::: "rax", "memory");
  GUEST_FAIL("execution continued after a non-canonical load");
}
