/* The built-in boot stub's steps (bootstub/stub/td_boot.S) with at most one defect, chosen
   by the file that includes this one (one #define BREAK_...), so each broken stub of
   this folder differs from the real one in exactly the place it names, and nowhere else.
   Every step has a label, so a test can name where a stub must stop. */
#include "td_boot_offsets.h"

	.text
	.code32
	.globl td_boot_start
td_boot_start:
	cli
	movl	$TD_BOOT_PARAMETERS_GPA, %ebx
	movl	$SIZEOF_TD_PER_VCPU_PARAMETERS, %eax
	mull	%esi
	leal	TD_PER_VCPU_OFFSET(%ebx, %eax), %eax
	movl	TD_PER_VCPU_PARAMETERS_ESP_GVA(%eax), %esp
#ifndef BREAK_NO_LGDT
	lgdt	TD_BOOT_PARAMETERS_GDT(%ebx)
#endif
	movl	TD_BOOT_PARAMETERS_CR4(%ebx), %edi
#ifdef BREAK_CR4_SET
	orl	$BREAK_CR4_SET, %edi
#endif
	.globl td_boot_set_cr4
td_boot_set_cr4:
	movl	%edi, %cr4
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	.globl td_boot_enable_paging
td_boot_enable_paging:
	movl	%edi, %cr0
	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)	/* in IA-32e mode, as td_boot.S */
	.globl td_boot_far_jump
td_boot_far_jump:
#ifdef BREAK_FAR_JUMP_TARGET
	ljmp	$KERNEL_CS, $BREAK_FAR_JUMP_TARGET
#else
	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))
#endif

	.code64
	.globl td_boot_long64
td_boot_long64:
#ifdef BREAK_STACK_HIGH
	btsq	$32, %rsp			/* RSP += 4 GiB */
#endif
	.globl td_boot_enter_guest
td_boot_enter_guest:
#ifdef BREAK_GUEST_ENTRY
	movl	$BREAK_GUEST_ENTRY, %ecx
	jmpq	*%rcx
#else
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)
#endif

	.globl td_boot_end
td_boot_end:
