/* MMIO reads a device may answer (Backend::set_mmio_read): a 4-byte and an 8-byte MOV
 * from TEST_DEVICE_MMIO, then TDG.VP.VMCALL<#VE.RequestMMIO> reading 2 bytes there
 * through the emulated TDCALL (value in R11). Each value is reported by an 8-byte MMIO
 * write; RAX is preset to all ones so a read that returned nothing is visible. */
#include "layout.inc"
#define TEST_DEVICE_MMIO 0x10002000
	.text
#include "enter64.inc"
	mov $-1, %rax
	movl TEST_DEVICE_MMIO, %eax
	mov %rax, TEST_DATA_MMIO

	mov $-1, %rax
	mov TEST_DEVICE_MMIO + 8, %rax
	mov %rax, TEST_DATA_MMIO

	xor %eax, %eax
	mov $0xfc00, %ecx
	xor %r10d, %r10d
	mov $48, %r11d
	mov $2, %r12d
	xor %r13d, %r13d
	mov $TEST_DEVICE_MMIO, %r14d
	movabs $TEST_SHARED_BIT, %rdx
	or %rdx, %r14
	.byte 0x66, 0x0f, 0x01, 0xcc
	mov %r11, TEST_DATA_MMIO
	hlt
#include "reset_vector.inc"
