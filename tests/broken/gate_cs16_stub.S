/* Not a boot stub but a probe of exception delivery in the 32-bit phase: it loads its
   own GDT and an IDT whose #UD gate is a 32-bit interrupt gate naming a 16-bit code
   segment (0x18), then executes UD2. The CPU must push the 32-bit frame, load CS 0x18
   and run the handler as 16-bit code; the handler checks CS and the pushed EIP and halts
   at td_boot_handler_ok when both are right, at td_boot_handler_bad otherwise (a HLT
   ends the vCPU on every backend, at its own address). */
#include "td_boot_offsets.h"

/* Where a label of this stub is at run time: the copy ends at the reset vector. */
#define AT(label) (RESET_VECTOR - (td_boot_end - td_boot_start) + ((label) - td_boot_start))
#define CODE16_CS 0x18

	.text
	.code32
	.globl td_boot_start
td_boot_start:
	cli
	movl	TD_BOOT_PARAMETERS_GPA + TD_PER_VCPU_OFFSET + TD_PER_VCPU_PARAMETERS_ESP_GVA, %esp	/* vCPU 0's */
	lgdt	AT(gdt_desc)
	lidt	AT(idt_desc)
	.globl td_boot_ud2
td_boot_ud2:
	ud2
	hlt

	.code16
	.globl td_boot_handler16
td_boot_handler16:
	movw	%cs, %dx
	movl	(%esp), %eax			/* the pushed EIP (32-bit gate: 32-bit frame) */
	subl	$AT(td_boot_ud2), %eax
	addw	%dx, %ax
	cmpl	$CODE16_CS, %eax		/* CS + EIP - UD2 address */
	/* JNE with a 32-bit operand size: a 16-bit jump would cut EIP to 16 bits. */
	.byte	0x66, 0x0f, 0x85
	.long	td_boot_handler_bad - 1f
1:
	.globl td_boot_handler_ok
td_boot_handler_ok:
	hlt
	.globl td_boot_handler_bad
td_boot_handler_bad:
	hlt
	.code32

	/* The stub must fit in 126 bytes, so the tables overlap: the GDTR sits in the null
	   descriptor, and the IDT starts 48 bytes before its one gate (vectors 0-5 are
	   never raised, whatever bytes they cover). */
	.balign 8
gdt:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	AT(gdt)
	.word	0
	.quad	0x00af9b000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf93000000ffff		/* 0x10: flat data */
	.quad	0x008f9b000000ffff		/* 0x18: 16-bit code (D=0), base 0, 4 GiB */
gdt_end:
gate_ud:
	.word	AT(td_boot_handler16) & 0xffff	/* vector 6 (#UD): 32-bit interrupt gate */
	.word	CODE16_CS
	.word	0x8e00
	.word	AT(td_boot_handler16) >> 16
idt_desc:
	.word	7 * 8 - 1
	.long	AT(gate_ud) - 6 * 8

	.globl td_boot_end
td_boot_end:
