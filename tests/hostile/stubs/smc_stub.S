/* A self-modifying user stub: its first instruction overwrites the UD2 that follows it
   with two HLTs, through the stub's own flat 32-bit address (the stub page is private
   RAM, writable before paging). Executing the old bytes gives #UD; the new ones, a halt
   at td_boot_patch. */
#include "td_boot_offsets.h"

#define AT(label) (RESET_VECTOR - (td_boot_end - td_boot_start) + ((label) - td_boot_start))

	.text
	.code32
	.globl td_boot_start
td_boot_start:
	movw	$0xf4f4, AT(td_boot_patch)
	.globl td_boot_patch
td_boot_patch:
	ud2
	.globl td_boot_end
td_boot_end:
