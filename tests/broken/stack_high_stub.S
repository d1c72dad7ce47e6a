/* A deliberately broken user stub: identical to the built-in td_boot.S except that, once
   in 64-bit mode, it moves the stack 4 GiB up (a stub author adding a "high base" to
   esp_gva). Nothing maps the guest's stack there, so the guest's first push must take
   a #PF on the stack; the report must point at the stack, not at the guest. */
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
	lgdt	TD_BOOT_PARAMETERS_GDT(%ebx)
	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)
	movl	TD_BOOT_PARAMETERS_CR4(%ebx), %edi
	movl	%edi, %cr4
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	movl	%edi, %cr0
	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))

	.code64
	.globl td_boot_long64
td_boot_long64:
	.globl td_boot_stack_high
td_boot_stack_high:
	btsq	$32, %rsp			/* the defect under test: RSP += 4 GiB */
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)

	.globl td_boot_end
td_boot_end:
