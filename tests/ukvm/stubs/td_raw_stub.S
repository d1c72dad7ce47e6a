/* The guest of progs/td_raw.c: one 4 KiB page that the program adds at GPA 0xfffff000.
 * From the TD initial state (flat 32-bit, paging off) at the reset vector it loads the
 * program's GDT and page tables, enters 64-bit mode and exercises the userspace exits a
 * TD produces, reporting each result by an MMIO write the program checks:
 *   +0x00  step marker        +0x08  a result
 *   +0x18  TDREPORT.MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG: 24 qwords
 * The MMIO base (with the shared bit) comes from the program's boot block at 0xffff0000.
 * Assembled into the program's read-only data; never executed on the host. */
#define PAGE_GPA 0xfffff000
#define VA(sym) (PAGE_GPA + ((sym) - td_raw_stub))
#define TDCALL .byte 0x66, 0x0f, 0x01, 0xcc
#define SHARED_BIT 0x800000000000
#define GDT_GPA 0x1000
#define PML4_GPA 0x2000
#define REPORT_GPA 0x4000
#define REPORTDATA_GPA 0x5000
#define BOOT_BLOCK_GPA 0xffff0000
#define MAPGPA_GPA 0x8000
#define QUOTE_GPA 0x100000

/* TDG.VP.VMCALL(subfn) exposing R10..R15; clobbers RAX, RCX, R10, R11. */
.macro vmcall subfn
	xor %eax, %eax
	mov $0xfc00, %ecx
	xor %r10d, %r10d
	mov $\subfn, %r11d
	TDCALL
.endm

/* An 8-byte MMIO write of %r15 to the MMIO base (%rbx) + off. */
.macro report off
	mov $8, %r12d
	mov $1, %r13d
	lea \off(%rbx), %r14
	vmcall 48
.endm

	.section .rodata.td_raw_stub,"a"
	.balign 4096
	.globl td_raw_stub
td_raw_stub:
	.code32
start:
	lgdt VA(gdt_desc)
	mov $PML4_GPA, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax		/* PAE */
	mov %eax, %cr4
	mov %cr0, %eax
	or $0x80000000, %eax	/* PG: EFER.LME is set in the TD initial state */
	mov %eax, %cr0
	ljmp $0x08, $VA(long64)
gdt_desc:
	.word 23
	.long GDT_GPA

	.code64
long64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov $BOOT_BLOCK_GPA, %eax
	mov (%rax), %rbx

	mov $1, %r15d		/* 1: hello */
	report 0
	mov %r8, %r15		/* 1: R8 at reset, KVM_TDX_INIT_VCPU's data (the reports leave R8 alone) */
	report 8

	mov $1, %r12d		/* 2: OUT 0x42 to port 0x80 */
	mov $1, %r13d
	mov $0x80, %r14d
	mov $0x42, %r15d
	vmcall 30
	mov $2, %r15d
	report 0

	mov $1, %r12d		/* 3: IN from port 0x61; the value back */
	xor %r13d, %r13d
	mov $0x61, %r14d
	vmcall 30
	mov %r11, %r15
	report 8

	mov $8, %r12d		/* 4: an 8-byte MMIO read at +0x10; the value back */
	xor %r13d, %r13d
	lea 0x10(%rbx), %r14
	vmcall 48
	mov %r11, %r15
	report 8

	movabs $(SHARED_BIT | MAPGPA_GPA), %r12	/* 5: MapGPA one page shared; R10 back */
	mov $0x1000, %r13d
	vmcall 0x10001
	mov %r10, %r15
	report 8

	movabs $(SHARED_BIT | QUOTE_GPA), %r12	/* 6: GetQuote; R10 back */
	mov $0x1000, %r13d
	vmcall 0x10002
	mov %r10, %r15
	report 8

	mov $4, %eax		/* 7: TDG.MR.REPORT; RAX back, then MRTD */
	mov $REPORT_GPA, %ecx
	mov $REPORTDATA_GPA, %edx
	xor %r8d, %r8d
	TDCALL
	mov %rax, %r15
	report 8
	xor %esi, %esi		/* MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG: 24 qwords from 528 */
1:	mov REPORT_GPA + 528(,%rsi,8), %r15
	report 0x18
	inc %esi
	cmp $24, %esi
	jne 1b

	mov $0x1234, %r12d	/* 8: ReportFatalError */
	xor %r13d, %r13d
	vmcall 0x10003
2:	hlt
	jmp 2b

	.org 0xff0		/* the reset vector */
	jmp start
	.org 0x1000
	.globl td_raw_stub_end
td_raw_stub_end:
	.section .note.GNU-stack,"",@progbits
