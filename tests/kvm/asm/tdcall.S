/* TDCALLs from 64-bit mode; after each, the status register is reported by an 8-byte
 * MMIO write: leaf 1 (RAX), VMCALL<CPUID> (R10), VMCALL<MMIO> to a private GPA (R10),
 * the ucall in slot 0 via VMCALL<MMIO> (R10), then the ucall in slot 1. */
#include "layout.inc"
	.text
#include "enter64.inc"
	mov $1, %eax
	.byte 0x66, 0x0f, 0x01, 0xcc
	mov %rax, TEST_DATA_MMIO

	xor %eax, %eax
	mov $0xfc00, %ecx
	xor %r10d, %r10d
	mov $10, %r11d
	.byte 0x66, 0x0f, 0x01, 0xcc
	mov %r10, TEST_DATA_MMIO

	xor %eax, %eax
	mov $0xfc00, %ecx
	xor %r10d, %r10d
	mov $48, %r11d
	mov $8, %r12d
	mov $1, %r13d
	mov $TEST_UCALL_MMIO, %r14d
	mov $TEST_SLOT0, %r15d
	.byte 0x66, 0x0f, 0x01, 0xcc
	mov %r10, TEST_DATA_MMIO

	xor %eax, %eax
	mov $0xfc00, %ecx
	xor %r10d, %r10d
	mov $48, %r11d
	mov $8, %r12d
	mov $1, %r13d
	mov $TEST_UCALL_MMIO, %r14d
	movabs $TEST_SHARED_BIT, %rdx
	or %rdx, %r14
	mov $TEST_SLOT0, %r15d
	.byte 0x66, 0x0f, 0x01, 0xcc
	mov %r10, TEST_DATA_MMIO

	mov $TEST_SLOT1, %r15d
	xor %r10d, %r10d
	.byte 0x66, 0x0f, 0x01, 0xcc
	hlt
#include "reset_vector.inc"
