/* Benchmark guest: boots into 64-bit mode, then sends slot 0 to the ucall MMIO GPA
 * forever (the host stops it by the wall-clock budget). */
#include "layout.inc"
	.text
#include "enter64.inc"
	mov $TEST_SLOT0, %rax
1:	mov %rax, TEST_UCALL_MMIO
	jmp 1b
#include "reset_vector.inc"
