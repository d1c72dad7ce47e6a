/* tdsim_idt_stubs: 256 interrupt entry points, kIdtStubStride (16) bytes apart; the
   layout points IDT gate v at tdsim_idt_stubs + 16 * v. Each stub makes the frame
   uniform (a 0 where the CPU pushes no error code), pushes its vector, and reports
   UCALL_UNHANDLED(vector, error code, RIP) through tdsim_report_unhandled, which
   never returns: an unexpected exception ends the guest like a selftest's GUEST_FAIL. */
	.text
	.code64
	.balign 16
	.globl tdsim_idt_stubs
	.type tdsim_idt_stubs, @function
tdsim_idt_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	/* Exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
	.if !((vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushq	$0
	.endif
	pushq	$vec
	jmp	tdsim_idt_common
	.set vec, vec + 1
	.endr
	.balign 16
	/* Exactly 256 * 16 only if no stub outgrew its slot (checked by the ELF test; gas
	   cannot evaluate it here because the JMPs are still being relaxed). */
	.size tdsim_idt_stubs, . - tdsim_idt_stubs

	.type tdsim_idt_common, @function
tdsim_idt_common:
	/* Stack: vector, error code, then the CPU's frame (RIP, CS, RFLAGS, RSP, SS). */
	movq	0(%rsp), %rdi
	movq	8(%rsp), %rsi
	movq	16(%rsp), %rdx
	andq	$-16, %rsp
	call	tdsim_report_unhandled
1:	hlt
	jmp	1b
	.size tdsim_idt_common, . - tdsim_idt_common

	.section .note.GNU-stack, "", @progbits
