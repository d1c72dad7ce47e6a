/* The built-in TD boot stub. Entered at the TDX architectural initial state (flat
   32-bit protected mode, paging off, EFER.LME already 1, RSI = VCPU_INDEX); leaves in
   64-bit mode at per_vcpu[ESI].guest_code with RSP = per_vcpu[ESI].esp_gva.
   It is copied so that it ends exactly at the reset vector, so it must be
   position-exact: the one absolute address (the far jump target) is computed from the
   stub's own size, and the object must carry no relocations. Never writes EFER: a TD
   cannot (EFER is fixed at 0x901), and the TD starts with LME set. */
#include "td_boot_offsets.h"

	.text
	.code32
	.globl td_boot_start
td_boot_start:
	cli
	movl	$TD_BOOT_PARAMETERS_GPA, %ebx

	/* MUL (not IMUL) so EDX is 0 at guest entry, the same register state as the
	   selftests' stub hands its guests. */
	movl	$SIZEOF_TD_PER_VCPU_PARAMETERS, %eax
	mull	%esi
	leal	TD_PER_VCPU_OFFSET(%ebx, %eax), %eax

	movl	TD_PER_VCPU_PARAMETERS_ESP_GVA(%eax), %esp

	lgdt	TD_BOOT_PARAMETERS_GDT(%ebx)

	/* PAE before CR3 before PG: with LME=1, setting CR0.PG activates IA-32e. */
	movl	TD_BOOT_PARAMETERS_CR4(%ebx), %edi
	movl	%edi, %cr4
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	movl	%edi, %cr0

	/* The IDT holds 64-bit gates, so it is loaded only now, in IA-32e mode (this is
	   compatibility mode: LIDT still takes the 6-byte limit:base32 of the parameters).
	   Loaded earlier, an exception in the 32-bit phase would be vectored through those
	   gates read as 8-byte 32-bit ones: a 16-bit "handler" made of the halves of two
	   descriptors, running whatever bytes it finds. With no IDT yet, such an exception
	   is a clean triple fault at the faulting instruction on every backend. */
	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)

	/* The stub runs from its copy ending at the reset vector, not from where it was
	   assembled, so the target is that copy's address of td_boot_long64. */
	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))

	.code64
	.globl td_boot_long64
td_boot_long64:
	/* RAX's upper half is 0: TDX starts with RAX = 0 and 32-bit ops zero-extend. */
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)

	.globl td_boot_end
td_boot_end:
