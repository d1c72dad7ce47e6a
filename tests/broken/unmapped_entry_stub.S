/* A deliberately broken user stub: the built-in td_boot.S, except that it enters the
   guest at an address nothing maps (an entry point taken from the wrong ELF). The fetch
   raises #PF in 64-bit mode with the guest's IDT loaded, so the guest runtime's handler
   reports it (UCALL_UNHANDLED, vector 14, CR2 = the entry) on every backend. */
#include "td_boot_offsets.h"

/* 1 GiB: the layout's page tables map nothing there (docs/memory-layout.md). */
#define UNMAPPED_ENTRY 0x40000000

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

	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)	/* in IA-32e mode, as td_boot.S */

	/* The stub runs from its copy ending at the reset vector, not from where it was
	   assembled, so the target is that copy's address of td_boot_long64. */
	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))

	.code64
	.globl td_boot_long64
td_boot_long64:
	/* RAX's upper half is 0: TDX starts with RAX = 0 and 32-bit ops zero-extend. */
	movl	$UNMAPPED_ENTRY, %ecx		/* the defect under test */
	.globl td_boot_enter_guest
td_boot_enter_guest:
	jmpq	*%rcx

	.globl td_boot_end
td_boot_end:
