/* tdsim_idt_stubs: 256 interrupt entry points, kIdtStubStride (16) bytes apart; the
   layout points IDT gate v at tdsim_idt_stubs + 16 * v. Each stub makes the frame
   uniform (a 0 where the CPU pushes no error code), pushes its vector, and enters
   tdsim_idt_common, which saves the general registers as an ExRegs (guest.h) and hands
   it to tdsim_dispatch_exception: a handler installed for the vector runs and the
   vector returns with IRETQ to the (possibly changed) registers; without one the guest
   reports UCALL_UNHANDLED(vector, error code, RIP) and the vCPU halts, like a selftest's
   unexpected exception. */
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
	/* Stack: vector, error code, then the CPU's frame (RIP, CS, RFLAGS, RSP, SS). Push
	   order makes the saved registers ExRegs' first fields, RAX lowest. */
	pushq	%r15
	pushq	%r14
	pushq	%r13
	pushq	%r12
	pushq	%r11
	pushq	%r10
	pushq	%r9
	pushq	%r8
	pushq	%rdi
	pushq	%rsi
	pushq	%rbp
	pushq	%rbx
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	movq	%rsp, %rdi
	movq	%rsp, %rbx		/* callee-saved: the frame, across the call */
	andq	$-16, %rsp
	cld
	call	tdsim_dispatch_exception
	movq	%rbx, %rsp
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rbx
	popq	%rbp
	popq	%rsi
	popq	%rdi
	popq	%r8
	popq	%r9
	popq	%r10
	popq	%r11
	popq	%r12
	popq	%r13
	popq	%r14
	popq	%r15
	addq	$16, %rsp		/* vector and error code */
	iretq
	.size tdsim_idt_common, . - tdsim_idt_common

	.section .note.GNU-stack, "", @progbits
