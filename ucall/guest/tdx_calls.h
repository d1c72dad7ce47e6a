// TDCALL leaf wrappers beyond TDG.VP.VMCALL<MMIO/HLT> (tdcall.h): TDG.VP.INFO,
// TDG.MR.REPORT, TDG.MR.RTMR.EXTEND, TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT and a raw
// TDCALL with every register the ABI uses. Freestanding: ABI headers only. C guests get
// them from tdcall_c.h (tdsim_ prefix, pointers for references).
#pragma once
#include <stdint.h>

#include "tdsim/abi/tdx.h"
#include "ucall/guest/tdcall.h"

// C guests: tdcall.h brought in tdcall_c.h, which has all of these.
#ifdef __cplusplus
namespace tdsim::guest {

// Inputs before, outputs after one TDCALL (any leaf).
struct TdcallAll {
  uint64_t rax = 0, rcx = 0, rdx = 0, r8 = 0, r9 = 0;
  uint64_t r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
};

inline void tdcall_all(TdcallAll& a) {
  register uint64_t r8 asm("r8") = a.r8;
  register uint64_t r9 asm("r9") = a.r9;
  register uint64_t r10 asm("r10") = a.r10;
  register uint64_t r11 asm("r11") = a.r11;
  register uint64_t r12 asm("r12") = a.r12;
  register uint64_t r13 asm("r13") = a.r13;
  register uint64_t r14 asm("r14") = a.r14;
  register uint64_t r15 asm("r15") = a.r15;
  asm volatile(".byte 0x66, 0x0f, 0x01, 0xcc"
               : "+a"(a.rax), "+c"(a.rcx), "+d"(a.rdx), "+r"(r8), "+r"(r9), "+r"(r10),
                 "+r"(r11), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
               :
               : "memory", "cc");
  a.r8 = r8;
  a.r9 = r9;
  a.r10 = r10;
  a.r11 = r11;
  a.r12 = r12;
  a.r13 = r13;
  a.r14 = r14;
  a.r15 = r15;
}

struct TdVpInfo {
  uint64_t gpaw, attributes, vcpus, vcpu_index, r10, r11;
  uint32_t num_vcpus() const { return static_cast<uint32_t>(vcpus); }
  uint32_t max_vcpus() const { return static_cast<uint32_t>(vcpus >> 32); }
};

// Returns RAX (TDCALL status).
inline uint64_t tdg_vp_info(TdVpInfo& out) {
  TdcallAll a;
  a.rax = abi::kTdgVpInfo;
  tdcall_all(a);
  out = {a.rcx, a.rdx, a.r8, a.r9, a.r10, a.r11};
  return a.rax;
}

inline uint64_t tdg_leaf(uint64_t leaf, uint64_t rcx, uint64_t rdx = 0, uint64_t r8 = 0) {
  TdcallAll a;
  a.rax = leaf;
  a.rcx = rcx;
  a.rdx = rdx;
  a.r8 = r8;
  tdcall_all(a);
  return a.rax;
}
// report_gpa: 1024-byte aligned private buffer; data_gpa: 64-byte aligned REPORTDATA.
inline uint64_t tdg_mr_report(uint64_t report_gpa, uint64_t data_gpa, uint64_t subtype = 0) {
  return tdg_leaf(abi::kTdgMrReport, report_gpa, data_gpa, subtype);
}
inline uint64_t tdg_mr_rtmr_extend(uint64_t data_gpa, uint64_t index) {
  return tdg_leaf(abi::kTdgMrRtmrExtend, data_gpa, index);
}
inline uint64_t tdg_vp_veinfo_get() { return tdg_leaf(abi::kTdgVpVeinfoGet, 0); }
inline uint64_t tdg_mem_page_accept(uint64_t gpa_and_level) {
  return tdg_leaf(abi::kTdgMemPageAccept, gpa_and_level);
}

// TDG.VP.VMCALL<sub-function> with R12..R15 as given and RCX = 0xFC00; the outputs
// are left in `v` (R10 status, R11.., RAX the TDCALL status).
inline VmcallRegs tdvmcall(uint64_t subfn, uint64_t r12 = 0, uint64_t r13 = 0, uint64_t r14 = 0,
                           uint64_t r15 = 0) {
  VmcallRegs v;
  v.r11 = subfn;
  v.r12 = r12;
  v.r13 = r13;
  v.r14 = r14;
  v.r15 = r15;
  tdcall(v);
  return v;
}

}  // namespace tdsim::guest
#endif
