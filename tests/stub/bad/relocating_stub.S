/* A stub that names its 64-bit label by link-time address (as the selftests' td_boot
   does). The object then carries a relocation, which the blob step must reject: a
   flat blob copied below 4 GiB is never linked, so the jump would go astray. */
	.text
	.code32
td_boot_start:
	cli
	ljmp	$0x08, $td_boot_long64
	.code64
td_boot_long64:
	jmp	*8(%rax)
td_boot_end:
