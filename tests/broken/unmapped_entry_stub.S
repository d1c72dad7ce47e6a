/* A deliberately broken user stub: the built-in one, except that it enters the guest at
   1 GiB, which the layout's page tables do not map (an entry point taken from the wrong
   ELF). The fetch raises #PF in 64-bit mode with the guest's IDT loaded, so the guest
   runtime's handler reports it (UCALL_UNHANDLED, vector 14, CR2 = the entry) on every
   backend. */
#define BREAK_GUEST_ENTRY 0x40000000
#include "boot_stub_variant.S"
