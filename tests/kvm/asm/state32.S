/* Reports the state at 0xfffffff0 through 4-byte MMIO writes, in this order:
 * EAX EBX ECX EDX ESI EDI ESP EBP CR0 CR4 EFER.lo EFER.hi CS DS SS ES FS GS EFLAGS
 * GDTR.limit GDTR.base IDTR.limit IDTR.base, then HLT. */
#include "layout.inc"
	.text
	.code32
start:
	mov %eax, TEST_DATA_MMIO
	mov %ebx, TEST_DATA_MMIO
	mov %ecx, TEST_DATA_MMIO
	mov %edx, TEST_DATA_MMIO
	mov %esi, TEST_DATA_MMIO
	mov %edi, TEST_DATA_MMIO
	mov %esp, TEST_DATA_MMIO
	mov %ebp, TEST_DATA_MMIO
	mov %cr0, %eax
	mov %eax, TEST_DATA_MMIO
	mov %cr4, %eax
	mov %eax, TEST_DATA_MMIO
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, TEST_DATA_MMIO
	mov %edx, TEST_DATA_MMIO
	mov %cs, %eax
	mov %eax, TEST_DATA_MMIO
	mov %ds, %eax
	mov %eax, TEST_DATA_MMIO
	mov %ss, %eax
	mov %eax, TEST_DATA_MMIO
	mov %es, %eax
	mov %eax, TEST_DATA_MMIO
	mov %fs, %eax
	mov %eax, TEST_DATA_MMIO
	mov %gs, %eax
	mov %eax, TEST_DATA_MMIO
	pushf
	pop %eax
	mov %eax, TEST_DATA_MMIO
	sgdt dtr_buf
	movzwl dtr_buf, %eax
	mov %eax, TEST_DATA_MMIO
	mov dtr_buf + 2, %eax
	mov %eax, TEST_DATA_MMIO
	sidt dtr_buf
	movzwl dtr_buf, %eax
	mov %eax, TEST_DATA_MMIO
	mov dtr_buf + 2, %eax
	mov %eax, TEST_DATA_MMIO
	hlt
dtr_buf:
	.quad 0
#include "reset_vector.inc"
