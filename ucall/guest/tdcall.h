// Raw TDCALL / CPUID wrappers for guest code. Freestanding: no libc, no host headers;
// only the ABI constants. Every register the TDX module or the VMM may change is an
// in/out operand, because with RCX = 0xFC00 the VMM sees and may write R10..R15.
// C guests get the same wrappers with a tdsim_ prefix and pointers for references
// (tdcall_c.h).
#pragma once
#include <stdint.h>

#include "tdsim/abi/tdx.h"

#ifndef __cplusplus
#include "ucall/guest/tdcall_c.h"
#else
namespace tdsim::guest {

struct CpuidRegs {
  uint32_t eax, ebx, ecx, edx;
};

inline CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidRegs r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// The registers of one TDG.VP.VMCALL: inputs before, outputs after the TDCALL.
struct VmcallRegs {
  uint64_t rax = tdsim::abi::kTdgVpVmcall;
  uint64_t rcx = tdsim::abi::kVmcallExposeR10toR15;
  uint64_t r10 = tdsim::abi::kVmcallStandard;
  uint64_t r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
};

// TDCALL (66 0F 01 CC) spelled as bytes so any assembler accepts it.
inline void tdcall(VmcallRegs& v) {
  register uint64_t r10 asm("r10") = v.r10;
  register uint64_t r11 asm("r11") = v.r11;
  register uint64_t r12 asm("r12") = v.r12;
  register uint64_t r13 asm("r13") = v.r13;
  register uint64_t r14 asm("r14") = v.r14;
  register uint64_t r15 asm("r15") = v.r15;
  asm volatile(".byte 0x66, 0x0f, 0x01, 0xcc"
               : "+a"(v.rax), "+c"(v.rcx), "+r"(r10), "+r"(r11), "+r"(r12), "+r"(r13),
                 "+r"(r14), "+r"(r15)
               :
               : "memory", "cc");
  v.r10 = r10;
  v.r11 = r11;
  v.r12 = r12;
  v.r13 = r13;
  v.r14 = r14;
  v.r15 = r15;
}

// TDG.VP.VMCALL<#VE.RequestMMIO> 8-byte write of `data` to `gpa` (passed as is: the
// caller decides whether the shared bit is set). Returns RAX (TDCALL status); *r10 gets
// the TDG.VP.VMCALL status, *r11 (if given) the VMM's R11.
inline uint64_t tdcall_vmcall_mmio_write(uint64_t gpa, uint64_t data, uint64_t* r10,
                                         uint64_t* r11 = nullptr) {
  VmcallRegs v;
  v.r11 = tdsim::abi::kVmcallRequestMmio;
  v.r12 = 8;
  v.r13 = tdsim::abi::kMmioWrite;
  v.r14 = gpa;
  v.r15 = data;
  tdcall(v);
  if (r10 != nullptr) *r10 = v.r10;
  if (r11 != nullptr) *r11 = v.r11;
  return v.rax;
}

// TDG.VP.VMCALL<HLT> with "interrupts blocked" = 1: guests run with IF = 0, so this
// halt is meant to be final. Returns the TDG.VP.VMCALL status if the VMM resumes us.
inline uint64_t tdvmcall_hlt() {
  VmcallRegs v;
  v.r11 = tdsim::abi::kVmcallHlt;
  v.r12 = 1;
  tdcall(v);
  return v.r10;
}

}  // namespace tdsim::guest
#endif
