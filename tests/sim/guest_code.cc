#include "guest_code.h"

// Every blob is bracketed by <name>_start/<name>_end in .rodata. Absolute addresses are
// those of hand_image.h; far-jump targets are computed from label differences.
asm(R"(
  .macro BLOB_BEGIN name
  .pushsection .rodata.tdsim_sim_test, "a"
  .globl \name\()_start
  .globl \name\()_end
\name\()_start:
  .endm
  .macro BLOB_END name
\name\()_end:
  .code64
  .popsection
  .endm
  .macro TDCALL
  .byte 0x66, 0x0f, 0x01, 0xcc
  .endm
  # TDG.VP.VMCALL<#VE.RequestMMIO> 8-byte write of %r15 to the ucall GPA (the runtime's
  # ucall transport). Clobbers rax, rcx, r10-r14. UCALL_REGS alone is for code that
  # needs its own label on the TDCALL.
  .macro UCALL_REGS
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $48, %r11d
  mov $8, %r12d
  mov $1, %r13d
  movq 0x20100, %r14
  .endm
  .macro UCALL
  UCALL_REGS
  TDCALL
  .endm
  .macro UCALL_SLOT n
  mov $(0x200008 + \n * 1096), %r15d
  UCALL
  .endm

  BLOB_BEGIN probe32
  .code32
  mov %eax, 0x20000
  mov %ebx, 0x20004
  mov %ecx, 0x20008
  mov %edx, 0x2000c
  mov %esi, 0x20010
  mov %edi, 0x20014
  mov %ebp, 0x20018
  mov %esp, 0x2001c
  mov %cr0, %eax
  mov %eax, 0x20020
  mov %cr4, %eax
  mov %eax, 0x20024
  mov %cr3, %eax
  mov %eax, 0x20028
  mov $0x20ff0, %esp
  pushf
  pop %eax
  mov %eax, 0x2002c
  mov $0xc0000080, %ecx
  rdmsr
  mov %eax, 0x20030
  mov %edx, 0x20034
  mov $1, %eax
  xor %ecx, %ecx
  cpuid
  mov %eax, 0x20038
  movw %cs, 0x20040
  movw %ds, 0x20042
  movw %es, 0x20044
  movw %ss, 0x20046
  movw %fs, 0x20048
  movw %gs, 0x2004a
  sgdt 0x20050
  sidt 0x20058
  movl $0x12345678, %fs:0x20060
  movl $0x9abcdef0, %gs:0x20064
  hlt
  BLOB_END probe32

  BLOB_BEGIN boot32
  .code32
  lgdt 0x20200
  mov $0x60, %eax
  mov %eax, %cr4
  mov $0x10000, %eax
  mov %eax, %cr3
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
  ljmp $0x08, $(0xfffff000 + (boot32_long - boot32_start))
  .code64
boot32_long:
  mov $0x10, %eax
  mov %eax, %ds
  mov %eax, %es
  mov %eax, %ss
  mov %esi, %esp
  shl $12, %esp
  add $0x80ff8, %esp
  mov $0x100000, %eax
  jmp *%rax
  BLOB_END boot32

  BLOB_BEGIN long_mode_probe64
  mov $0xc0000080, %ecx
  rdmsr
  mov %eax, 0x20300
  mov %cr0, %rax
  mov %rax, 0x20308
  mov %cr4, %rax
  mov %rax, 0x20310
  movw %cs, 0x20318
  movabs $0x123456789abcdef0, %r15
  mov %r15, 0x20320
  mov %rsp, 0x20328
  mov %rsi, 0x20330
  hlt
  BLOB_END long_mode_probe64

  BLOB_BEGIN hello64
  movq 0x200000, %rax
  UCALL_SLOT 0
  UCALL_SLOT 1
  hlt
  BLOB_END hello64

  BLOB_BEGIN tdcall_loop64
  xor %ebx, %ebx
1:
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $48, %r11d
  mov $4, %r12d
  mov $1, %r13d
  movq 0x20108, %r14
  mov %rbx, %r15
  TDCALL
  inc %ebx
  cmp $150, %ebx
  jne 1b
  UCALL_SLOT 0
  BLOB_END tdcall_loop64

  BLOB_BEGIN rcx_forbidden64
  xor %eax, %eax
  mov $0xfc01, %ecx
  mov $0x1234, %r10d
  mov $48, %r11d
  mov $8, %r12d
  mov $1, %r13d
  movq 0x20100, %r14
  mov $0x200008, %r15d
  TDCALL
  mov %rax, 0x20300
  mov %r10, 0x20308
  UCALL_SLOT 0
  BLOB_END rcx_forbidden64

  BLOB_BEGIN private_gpa64
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $48, %r11d
  mov $8, %r12d
  mov $1, %r13d
  movq 0x20110, %r14
  mov $0x200008, %r15d
  TDCALL
  mov %rax, 0x20300
  mov %r10, 0x20308
  UCALL_SLOT 0
  BLOB_END private_gpa64

  BLOB_BEGIN other_calls64
  mov $1, %eax
  TDCALL
  mov %rax, 0x20300
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $99, %r11d
  TDCALL
  mov %rax, 0x20308
  mov %r10, 0x20310
  xor %eax, %eax
  mov $0xfc00, %ecx
  mov $5, %r10d
  TDCALL
  mov %r10, 0x20318
  xor %eax, %eax
  mov $0xfc00, %ecx
  mov $1, %r10d
  TDCALL
  mov %r10, 0x20320
  UCALL_SLOT 0
  BLOB_END other_calls64

  BLOB_BEGIN vmcall_hlt64
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $12, %r11d
  xor %r12d, %r12d
  TDCALL
  ud2
  BLOB_END vmcall_hlt64

  BLOB_BEGIN mmio_read64
  xor %eax, %eax
  mov $0xfc00, %ecx
  xor %r10d, %r10d
  mov $48, %r11d
  mov $4, %r12d
  xor %r13d, %r13d
  movq 0x20108, %r14
  TDCALL
  mov %r11, 0x20300
  mov %r10, 0x20308
  UCALL_SLOT 0
  BLOB_END mmio_read64

  BLOB_BEGIN loop_forever64
1:
  jmp 1b
  BLOB_END loop_forever64

  BLOB_BEGIN ud2_64
  nop
  ud2
  BLOB_END ud2_64

  BLOB_BEGIN unmapped64
  movq $1, 0x7000000
  hlt
  BLOB_END unmapped64

  BLOB_BEGIN page_fault64
  movq $0, 0x12008
  invlpg 0x200000
  movq $1, 0x200000
  hlt
  BLOB_END page_fault64

  # PDE 2 (GVA 0x400000) is pointed at GPA 0 by the test: a write through that alias
  # must land in the data page at GPA kData, where the identity map reads it back.
  BLOB_BEGIN alias_write64
  movabs $0x1122334455667788, %rax
  mov %rax, 0x400000 + 0x20000 + 0x300
  mov 0x20000 + 0x300, %rbx
  cmp %rax, %rbx
  jne 1f
  hlt
1:
  ud2
  BLOB_END alias_write64

  # One ucall (slot 0) from a TDCALL site, then the guest turns that site into four
  # NOPs and runs it again: the second pass must not be a TDCALL.
  BLOB_BEGIN smc_tdcall64
  xor %ebp, %ebp
2:
  UCALL_REGS
  mov $0x200008, %r15d
3:
  TDCALL
  test %ebp, %ebp
  jnz 4f
  inc %ebp
  movl $0x90909090, 3b(%rip)
  jmp 2b
4:
  hlt
  BLOB_END smc_tdcall64

  # A ucall whose slot pointer is the data page (private memory), then HLT.
  BLOB_BEGIN private_slot64
  mov $0x20000, %r15d
  UCALL
  hlt
  BLOB_END private_slot64

  # f (at kCode + 0x1080, returns 1) is called, then TDG.MR.REPORT writes its report at
  # kCode + 0x1000: the REPORTDATA the guest chose lands at +128, i.e. over f, and holds
  # "mov $2, %eax; ret". f is called again: HLT if it returned 2 (the new bytes ran),
  # UD2 if the old translation ran or the TDCALL failed.
  BLOB_BEGIN report_over_code64
  mov $0x101080, %ebx
  call *%rbx
  cmp $1, %eax
  jne 1f
  movabs $0xc300000002b8, %rax
  mov %rax, 0x20400
  mov $4, %eax
  mov $0x101000, %ecx
  mov $0x20400, %edx
  xor %r8d, %r8d
  TDCALL
  test %rax, %rax
  jnz 1f
  call *%rbx
  cmp $2, %eax
  jne 1f
  hlt
1:
  ud2
  .skip 0x1080 - (. - report_over_code64_start)
  mov $1, %eax
  ret
  BLOB_END report_over_code64

  BLOB_BEGIN port_out64
  nop
  mov $0x5a, %al
  out %al, $0x80
  hlt
  BLOB_END port_out64

  BLOB_BEGIN cpuid_ve64
  nop
  mov $0x40000000, %eax
  xor %ecx, %ecx
  cpuid
  hlt
  BLOB_END cpuid_ve64

  BLOB_BEGIN port_out_store64
  mov $0x5a, %al
  out %al, $0x80
  mov $0x77, %ecx
  mov %ecx, 0x20300
  hlt
  BLOB_END port_out_store64

  BLOB_BEGIN alu_loop64
  mov $1000, %ecx
1:
  add %ebx, %eax
  xor %eax, %edx
  add $3, %ebx
  dec %ecx
  jnz 1b
  hlt
  BLOB_END alu_loop64

  BLOB_BEGIN hlt64
  nop
  hlt
  ud2
  BLOB_END hlt64

  BLOB_BEGIN cpuid21_64
  mov $0x21, %eax
  xor %ecx, %ecx
  cpuid
  mov %eax, 0x20300
  mov %ebx, 0x20304
  mov %ecx, 0x20308
  mov %edx, 0x2030c
  UCALL_SLOT 0
  BLOB_END cpuid21_64

  BLOB_BEGIN bad_slot64
  mov $0x7000000, %r15d
  UCALL
  BLOB_END bad_slot64

  # Benchmarks: N = the 8-byte cell at 0x20118.
  BLOB_BEGIN tdcall_bench64
  movq 0x20118, %rbx
1:
  xor %eax, %eax
  mov $0xfc00, %ecx
  mov $1, %r10d
  TDCALL
  dec %rbx
  jnz 1b
  UCALL_SLOT 0
  BLOB_END tdcall_bench64

  BLOB_BEGIN ucall_bench64
  movq 0x20118, %rbx
1:
  UCALL_SLOT 0
  dec %rbx
  jnz 1b
  UCALL_SLOT 1
  BLOB_END ucall_bench64

  BLOB_BEGIN smp64
  mov %esi, %ebx
  mov $3, %ebp
1:
  mov $3000, %ecx
2:
  dec %ecx
  jnz 2b
  imul $2192, %rbx, %r15
  add $0x200008, %r15
  UCALL
  dec %ebp
  jnz 1b
  imul $2192, %rbx, %r15
  add $(0x200008 + 1096), %r15
  UCALL
  BLOB_END smp64
)");

#define TDSIM_BLOB(fn, sym)                         \
  extern "C" const uint8_t sym##_start[], sym##_end[]; \
  namespace tdsim::simtest {                        \
  Blob fn() { return Blob{sym##_start, sym##_end}; } \
  }

TDSIM_BLOB(probe32, probe32)
TDSIM_BLOB(boot32, boot32)
TDSIM_BLOB(long_mode_probe64, long_mode_probe64)
TDSIM_BLOB(hello64, hello64)
TDSIM_BLOB(tdcall_loop64, tdcall_loop64)
TDSIM_BLOB(rcx_forbidden64, rcx_forbidden64)
TDSIM_BLOB(private_gpa64, private_gpa64)
TDSIM_BLOB(other_calls64, other_calls64)
TDSIM_BLOB(vmcall_hlt64, vmcall_hlt64)
TDSIM_BLOB(mmio_read64, mmio_read64)
TDSIM_BLOB(loop_forever64, loop_forever64)
TDSIM_BLOB(ud2_64, ud2_64)
TDSIM_BLOB(unmapped64, unmapped64)
TDSIM_BLOB(page_fault64, page_fault64)
TDSIM_BLOB(hlt64, hlt64)
TDSIM_BLOB(port_out64, port_out64)
TDSIM_BLOB(cpuid_ve64, cpuid_ve64)
TDSIM_BLOB(port_out_store64, port_out_store64)
TDSIM_BLOB(alu_loop64, alu_loop64)
TDSIM_BLOB(private_slot64, private_slot64)
TDSIM_BLOB(report_over_code64, report_over_code64)
TDSIM_BLOB(alias_write64, alias_write64)
TDSIM_BLOB(smc_tdcall64, smc_tdcall64)
TDSIM_BLOB(cpuid21_64, cpuid21_64)
TDSIM_BLOB(bad_slot64, bad_slot64)
TDSIM_BLOB(smp64, smp64)
TDSIM_BLOB(tdcall_bench64, tdcall_bench64)
TDSIM_BLOB(ucall_bench64, ucall_bench64)
