/* A deliberately broken user stub: identical to the built-in td_boot.S except that it
   clears CR4.PAE before writing CR4. Setting CR0.PG with EFER.LME = 1 and CR4.PAE = 0
   is illegal (#GP, SDM "Initializing IA-32e Mode"), so booting with it must fault
   at the CR0 write; a simulator that lets it reach 64-bit mode is too lenient. */
#include "td_boot_offsets.h"

/* CR4.PAE is bit 5 (SDM vol. 3, "Control Registers"). */
#define CR4_PAE_BIT 0x20

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

	movl	TD_BOOT_PARAMETERS_CR4(%ebx), %edi
	andl	$~CR4_PAE_BIT, %edi		/* the defect under test */
	movl	%edi, %cr4
	movl	TD_BOOT_PARAMETERS_CR3(%ebx), %edi
	movl	%edi, %cr3
	movl	TD_BOOT_PARAMETERS_CR0(%ebx), %edi
	.globl td_boot_enable_paging
td_boot_enable_paging:
	movl	%edi, %cr0			/* must fault: PG with LME and without PAE */
	lidt	TD_BOOT_PARAMETERS_IDT(%ebx)	/* in IA-32e mode, as td_boot.S */

	ljmp	$KERNEL_CS, $((RESET_VECTOR - (td_boot_end - td_boot_start)) + (td_boot_long64 - td_boot_start))

	.code64
	.globl td_boot_long64
td_boot_long64:
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)

	.globl td_boot_end
td_boot_end:
