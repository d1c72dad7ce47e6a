/* A deliberately broken user stub: the far jump into 64-bit mode (td_boot_far_jump)
   aims at an absolute address nothing maps (a stub author using the link-time address
   of a copy that was never loaded). `tdsim lint` flags the target before the run; the
   run itself must fault at that address. */
#define BREAK_FAR_JUMP_TARGET 0x80000000
#include "boot_stub_variant.S"
