/* A deliberately broken user stub: the far jump into 64-bit mode aims at an absolute
   address nothing maps (a stub author using the link-time address of a copy that was
   never loaded). `tdsim lint` flags the target before the run; the run itself must
   fault at that address. */
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
	.globl td_boot_bad_ljmp
td_boot_bad_ljmp:
	ljmp	$KERNEL_CS, $0x80000000		/* the defect under test */

	.code64
	.globl td_boot_long64
td_boot_long64:
	jmpq	*TD_PER_VCPU_PARAMETERS_GUEST_CODE(%rax)

	.globl td_boot_end
td_boot_end:
