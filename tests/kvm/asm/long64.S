/* Boots into 64-bit mode, reports RSI, R8, RCX, EFER, CS, slot 0's `self` (read through
 * the pool's S-bit PTE), the value of an 8-byte MMIO read (8-byte MMIO writes), then sends
 * UCALL slot 0 with a plain 8-byte MOV to the untagged ucall MMIO GPA. */
#include "layout.inc"
	.text
#include "enter64.inc"
	mov %rsi, TEST_DATA_MMIO
	mov %r8, TEST_DATA_MMIO
	mov %rcx, %rbx
	mov %rbx, TEST_DATA_MMIO
	mov $0xc0000080, %ecx
	rdmsr
	mov %rax, TEST_DATA_MMIO
	mov %cs, %eax
	mov %rax, TEST_DATA_MMIO
	mov (TEST_SLOT0 + 1088), %rax
	mov %rax, TEST_DATA_MMIO
	mov $-1, %rax
	mov TEST_DATA_MMIO, %rax
	mov %rax, TEST_DATA_MMIO
	mov $TEST_SLOT0, %rax
	mov %rax, TEST_UCALL_MMIO
	hlt
#include "reset_vector.inc"
