/* A deliberately broken user stub: the built-in td_boot.S, except that it sets CR4.VMXE.
   The TDX module fixes VMXE to 0 in a TD, and a CPU without VMX for the guest refuses it
   too: the MOV to CR4 raises #GP in the 32-bit phase, before any IDT is loaded, so the
   vCPU shuts down there on every backend. */
#include "td_boot_offsets.h"

/* CR4.VMXE is bit 13 (SDM vol. 3, "Control Registers"). */
#define CR4_VMXE_BIT 0x2000

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
	orl	$CR4_VMXE_BIT, %edi		/* the defect under test */
	.globl td_boot_set_cr4
td_boot_set_cr4:
	movl	%edi, %cr4			/* must fault: a TD's CR4.VMXE is fixed to 0 */
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	movl	%edi, %cr0

	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)	/* in IA-32e mode, as td_boot.S */

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
