// The TDCALL, TDG.VP.VMCALL and CPUID wrappers of tdcall.h and tdx_calls.h for C
// guests: the same operations, named with a tdsim_ prefix, pointers where C++ takes
// references, no default arguments. Included by tdcall.h when compiling C; C++ code
// uses the tdsim::guest versions. Every register the TDX module or the VMM may change
// is an in/out operand (with RCX = 0xFC00 the VMM sees and may write R10..R15).
#pragma once
#ifdef __cplusplus
#error "tdcall_c.h is the C spelling; C++ uses ucall/guest/tdcall.h and tdx_calls.h"
#endif
#include <stdint.h>

#include "tdsim/abi/tdx.h"

typedef struct CpuidRegs {
  uint32_t eax, ebx, ecx, edx;
} CpuidRegs;

static inline CpuidRegs tdsim_cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// Inputs before, outputs after one TDCALL (any leaf).
typedef struct TdcallAll {
  uint64_t rax, rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15;
} TdcallAll;

// TDCALL (66 0F 01 CC) spelled as bytes so any assembler accepts it.
static inline void tdsim_tdcall_all(TdcallAll* a) {
  register uint64_t r8 __asm__("r8") = a->r8;
  register uint64_t r9 __asm__("r9") = a->r9;
  register uint64_t r10 __asm__("r10") = a->r10;
  register uint64_t r11 __asm__("r11") = a->r11;
  register uint64_t r12 __asm__("r12") = a->r12;
  register uint64_t r13 __asm__("r13") = a->r13;
  register uint64_t r14 __asm__("r14") = a->r14;
  register uint64_t r15 __asm__("r15") = a->r15;
  __asm__ volatile(".byte 0x66, 0x0f, 0x01, 0xcc"
                   : "+a"(a->rax), "+c"(a->rcx), "+d"(a->rdx), "+r"(r8), "+r"(r9), "+r"(r10),
                     "+r"(r11), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
                   :
                   : "memory", "cc");
  a->r8 = r8;
  a->r9 = r9;
  a->r10 = r10;
  a->r11 = r11;
  a->r12 = r12;
  a->r13 = r13;
  a->r14 = r14;
  a->r15 = r15;
}

// The registers of one TDG.VP.VMCALL: inputs before, outputs after the TDCALL (RAX the
// TDCALL status, R10 the TDG.VP.VMCALL status, R11.. the VMM's outputs).
typedef struct VmcallRegs {
  uint64_t rax, rcx, r10, r11, r12, r13, r14, r15;
} VmcallRegs;

// A GHCI standard TDG.VP.VMCALL<subfn> exposing R10..R15 (C++: VmcallRegs' defaults).
static inline VmcallRegs tdsim_vmcall_regs(uint64_t subfn) {
  VmcallRegs v = {kTdgVpVmcall, kVmcallExposeR10toR15, kVmcallStandard, subfn, 0, 0, 0, 0};
  return v;
}

static inline void tdsim_tdcall(VmcallRegs* v) {
  TdcallAll a = {v->rax, v->rcx, 0, 0, 0, v->r10, v->r11, v->r12, v->r13, v->r14, v->r15};
  tdsim_tdcall_all(&a);
  v->rax = a.rax;
  v->rcx = a.rcx;
  v->r10 = a.r10;
  v->r11 = a.r11;
  v->r12 = a.r12;
  v->r13 = a.r13;
  v->r14 = a.r14;
  v->r15 = a.r15;
}

// TDG.VP.VMCALL<sub-function> with R12..R15 as given; the outputs are in the result.
static inline VmcallRegs tdsim_tdvmcall(uint64_t subfn, uint64_t r12, uint64_t r13, uint64_t r14,
                                        uint64_t r15) {
  VmcallRegs v = tdsim_vmcall_regs(subfn);
  v.r12 = r12;
  v.r13 = r13;
  v.r14 = r14;
  v.r15 = r15;
  tdsim_tdcall(&v);
  return v;
}

// TDG.VP.VMCALL<#VE.RequestMMIO> 8-byte write of `data` to `gpa` (passed as is: the
// caller decides whether the shared bit is set). Returns RAX (TDCALL status); *r10 gets
// the TDG.VP.VMCALL status, *r11 (if not NULL) the VMM's R11.
static inline uint64_t tdsim_tdcall_vmcall_mmio_write(uint64_t gpa, uint64_t data, uint64_t* r10,
                                                      uint64_t* r11) {
  VmcallRegs v = tdsim_tdvmcall(kVmcallRequestMmio, 8, kMmioWrite, gpa, data);
  if (r10 != 0) *r10 = v.r10;
  if (r11 != 0) *r11 = v.r11;
  return v.rax;
}

// TDG.VP.VMCALL<HLT> with "interrupts blocked" = 1 (guests run with IF = 0): meant to be
// final. Returns the TDG.VP.VMCALL status if the VMM resumes us.
static inline uint64_t tdsim_tdvmcall_hlt(void) { return tdsim_tdvmcall(kVmcallHlt, 1, 0, 0, 0).r10; }

// TDG.VP.INFO: vcpus holds NUM_VCPUS in bits 31:0 and MAX_VCPUS in bits 63:32.
typedef struct TdVpInfo {
  uint64_t gpaw, attributes, vcpus, vcpu_index, r10, r11;
} TdVpInfo;

// Returns RAX (TDCALL status).
static inline uint64_t tdsim_tdg_vp_info(TdVpInfo* out) {
  TdcallAll a = {0};
  a.rax = kTdgVpInfo;
  tdsim_tdcall_all(&a);
  out->gpaw = a.rcx;
  out->attributes = a.rdx;
  out->vcpus = a.r8;
  out->vcpu_index = a.r9;
  out->r10 = a.r10;
  out->r11 = a.r11;
  return a.rax;
}

static inline uint64_t tdsim_tdg_leaf(uint64_t leaf, uint64_t rcx, uint64_t rdx, uint64_t r8) {
  TdcallAll a = {0};
  a.rax = leaf;
  a.rcx = rcx;
  a.rdx = rdx;
  a.r8 = r8;
  tdsim_tdcall_all(&a);
  return a.rax;
}
// report_gpa: 1024-byte aligned private buffer; data_gpa: 64-byte aligned REPORTDATA.
static inline uint64_t tdsim_tdg_mr_report(uint64_t report_gpa, uint64_t data_gpa, uint64_t subtype) {
  return tdsim_tdg_leaf(kTdgMrReport, report_gpa, data_gpa, subtype);
}
static inline uint64_t tdsim_tdg_mr_rtmr_extend(uint64_t data_gpa, uint64_t index) {
  return tdsim_tdg_leaf(kTdgMrRtmrExtend, data_gpa, index, 0);
}
static inline uint64_t tdsim_tdg_vp_veinfo_get(void) { return tdsim_tdg_leaf(kTdgVpVeinfoGet, 0, 0, 0); }
static inline uint64_t tdsim_tdg_mem_page_accept(uint64_t gpa_and_level) {
  return tdsim_tdg_leaf(kTdgMemPageAccept, gpa_and_level, 0, 0);
}
