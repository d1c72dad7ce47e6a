// Reads of the vCPU state a guest can see for itself (control registers, MSRs, RFLAGS,
// descriptor-table registers, segment selectors), for guests that report or check the
// state the boot stub left. Freestanding; 64-bit guest code only.
#pragma once
#include <stdint.h>

namespace tdsim::guest {

inline uint64_t read_cr0() { uint64_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
inline uint64_t read_cr3() { uint64_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
inline uint64_t read_cr4() { uint64_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}

inline uint64_t read_rflags() {
  uint64_t v;
  asm volatile("pushfq; popq %0" : "=r"(v));
  return v;
}

// What SGDT / SIDT store in 64-bit mode.
struct __attribute__((packed)) DescriptorTableRegister {
  uint16_t limit;
  uint64_t base;
};

inline DescriptorTableRegister read_gdtr() {
  DescriptorTableRegister r{};
  asm volatile("sgdt %0" : "=m"(r));
  return r;
}

inline DescriptorTableRegister read_idtr() {
  DescriptorTableRegister r{};
  asm volatile("sidt %0" : "=m"(r));
  return r;
}

// Segment selectors: the register is part of the instruction, hence one function each.
#define TDSIM_GUEST_READ_SELECTOR(seg) \
  inline uint16_t read_##seg() { uint16_t v; asm volatile("mov %%" #seg ", %0" : "=r"(v)); return v; }
TDSIM_GUEST_READ_SELECTOR(cs)
TDSIM_GUEST_READ_SELECTOR(ds)
TDSIM_GUEST_READ_SELECTOR(es)
TDSIM_GUEST_READ_SELECTOR(ss)
TDSIM_GUEST_READ_SELECTOR(fs)
TDSIM_GUEST_READ_SELECTOR(gs)
#undef TDSIM_GUEST_READ_SELECTOR

}  // namespace tdsim::guest
