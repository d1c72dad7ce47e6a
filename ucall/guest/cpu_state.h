// Reads of the vCPU state a guest can see for itself (control registers, MSRs, RFLAGS,
// descriptor-table registers, segment selectors), for guests that report or check the
// state the boot stub left. Freestanding; 64-bit guest code only. C11 and C++: C++
// code calls tdsim::guest::read_cr0(), C code tdsim_read_cr0() (the runtime's rule:
// types keep their names, functions gain a tdsim_ prefix in C).
#pragma once
#include <stdint.h>

#ifdef __cplusplus
#define TDSIM_CPU_INLINE inline
#define TDSIM_CPU_NAME(name) name
namespace tdsim::guest {
#else
#define TDSIM_CPU_INLINE static inline
#define TDSIM_CPU_NAME(name) tdsim_##name
#endif

TDSIM_CPU_INLINE uint64_t TDSIM_CPU_NAME(read_cr0)(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
TDSIM_CPU_INLINE uint64_t TDSIM_CPU_NAME(read_cr3)(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
TDSIM_CPU_INLINE uint64_t TDSIM_CPU_NAME(read_cr4)(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

TDSIM_CPU_INLINE uint64_t TDSIM_CPU_NAME(rdmsr)(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

TDSIM_CPU_INLINE uint64_t TDSIM_CPU_NAME(read_rflags)(void) {
  uint64_t v;
  __asm__ volatile("pushfq; popq %0" : "=r"(v));
  return v;
}

// What SGDT / SIDT store in 64-bit mode.
typedef struct __attribute__((packed)) DescriptorTableRegister {
  uint16_t limit;
  uint64_t base;
} DescriptorTableRegister;

TDSIM_CPU_INLINE DescriptorTableRegister TDSIM_CPU_NAME(read_gdtr)(void) {
  DescriptorTableRegister r = {0, 0};
  __asm__ volatile("sgdt %0" : "=m"(r));
  return r;
}

TDSIM_CPU_INLINE DescriptorTableRegister TDSIM_CPU_NAME(read_idtr)(void) {
  DescriptorTableRegister r = {0, 0};
  __asm__ volatile("sidt %0" : "=m"(r));
  return r;
}

// Segment selectors: the register is part of the instruction, hence one function each.
#define TDSIM_GUEST_READ_SELECTOR(seg)                             \
  TDSIM_CPU_INLINE uint16_t TDSIM_CPU_NAME(read_##seg)(void) {     \
    uint16_t v;                                                    \
    __asm__ volatile("mov %%" #seg ", %0" : "=r"(v));              \
    return v;                                                      \
  }
TDSIM_GUEST_READ_SELECTOR(cs)
TDSIM_GUEST_READ_SELECTOR(ds)
TDSIM_GUEST_READ_SELECTOR(es)
TDSIM_GUEST_READ_SELECTOR(ss)
TDSIM_GUEST_READ_SELECTOR(fs)
TDSIM_GUEST_READ_SELECTOR(gs)
#undef TDSIM_GUEST_READ_SELECTOR

#ifdef __cplusplus
}  // namespace tdsim::guest
#endif
#undef TDSIM_CPU_INLINE
#undef TDSIM_CPU_NAME
