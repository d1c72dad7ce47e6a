/* _start: where the boot stub's final `jmp *guest_code` lands, on every vCPU, with
   RSP = esp_gva ((RSP + 8) % 16 == 0, as right after a CALL) and RSI = VCPU_INDEX.
   Records the entry RSP (for boot-state checks), then calls guest_main(vcpu) on an
   ABI-aligned stack. There is nothing to return to: if guest_main returns the guest
   reports DONE and halts. */
	.section .text.entry, "ax", @progbits
	.code64
	.globl _start
	.type _start, @function
_start:
	movl	%esi, %edi
	cmpl	$64, %edi		/* tdsim_entry_rsp has one slot per vCPU up to 64 */
	jae	1f
	movq	%rsp, tdsim_entry_rsp(, %rdi, 8)
1:
	xorl	%ebp, %ebp		/* terminates frame-pointer backtraces */
	/* Align whatever the stub gave us: the ABI wants RSP % 16 == 0 at the CALL. */
	andq	$-16, %rsp
	call	guest_main
	call	tdsim_guest_main_returned
2:	hlt
	jmp	2b
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
