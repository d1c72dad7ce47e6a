/* A deliberately broken user stub: the built-in td_boot.S without its LGDT. The far jump
   into 64-bit mode then reads KERNEL_CS from the reset GDTR (base 0), where no 64-bit
   code descriptor is: #GP at the jump, and the IDT's gates name the same missing code
   segment, so the vCPU shuts down at the jump on every backend. */
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

	/* the defect under test: no LGDT, the GDTR is still the reset one (base 0) */

	/* PAE before CR3 before PG: with LME=1, setting CR0.PG activates IA-32e. */
	movl	TD_BOOT_PARAMETERS_CR4(%ebx), %edi
	movl	%edi, %cr4
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	movl	%edi, %cr0

	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)	/* in IA-32e mode, as td_boot.S */

	/* The stub runs from its copy ending at the reset vector, not from where it was
	   assembled, so the target is that copy's address of td_boot_long64. */
	.globl td_boot_far_jump
td_boot_far_jump:
	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))

	.code64
	.globl td_boot_long64
td_boot_long64:
	/* RAX's upper half is 0: TDX starts with RAX = 0 and 32-bit ops zero-extend. */
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)

	.globl td_boot_end
td_boot_end:
