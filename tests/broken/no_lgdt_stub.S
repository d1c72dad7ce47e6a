/* A deliberately broken user stub: the built-in one without its LGDT. The far jump into
   64-bit mode (td_boot_far_jump) then reads KERNEL_CS from the reset GDTR (base 0),
   where no 64-bit code descriptor is, and the IDT's gates name the same missing code
   segment, so the vCPU shuts down at the jump on every backend. */
#define BREAK_NO_LGDT 1
#include "boot_stub_variant.S"
