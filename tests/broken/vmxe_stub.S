/* A deliberately broken user stub: the built-in one, except that it sets CR4.VMXE
   (bit 13). The TDX module fixes VMXE to 0 in a TD, and a CPU without VMX for the guest
   refuses it too: the MOV to CR4 (td_boot_set_cr4) raises #GP in the 32-bit phase,
   before any IDT is loaded, so the vCPU shuts down there on every backend. */
#define BREAK_CR4_SET 0x2000
#include "boot_stub_variant.S"
