// Guest side (freestanding): what the MSR test guests share — WRMSR (RDMSR is
// ucall/guest/cpu_state.h's) and a #VE handler that counts the #VEs it passes on to the
// runtime's tdsim_ve_handler.
#pragma once
#include <stdint.h>

#include "ucall/guest/cpu_state.h"
#include "ucall/guest/guest.h"

namespace tdsim::test_guest {

using tdsim::guest::rdmsr;

inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}

inline volatile uint64_t g_ves = 0;  // #VEs taken so far
inline void counting_ve_handler(tdsim::guest::ExRegs* regs) {
  g_ves = g_ves + 1;
  tdsim_ve_handler(regs);
}

}  // namespace tdsim::test_guest
