// After boot the guest owns its memory: it overwrites the whole boot-params page (the
// host must not care), reports, then zeroes its PML4 and reloads CR3. The next
// instruction fetch has no translation, and neither has the IDT: a triple fault.
#include "tdsim/abi/td_boot.h"
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"

namespace hk = tdsim::test::hostile;

extern "C" void guest_main(uint32_t) {
  memset(reinterpret_cast<void*>(uint64_t{tdsim::abi::kTdBootParamsGpa}), 0xa5, 4096);
  GUEST_SYNC_ARGS(hk::kParamsClobbered);
  uint64_t cr3;
  asm volatile("mov %%cr3, %0" : "=r"(cr3));
  const uint64_t pml4 = cr3 & ~0xfffull;
  GUEST_SYNC_ARGS(hk::kTablesNext, pml4);
  asm volatile(
      "mov %0, %%rdi\n"
      "xor %%eax, %%eax\n"
      "mov $512, %%ecx\n"
      "rep stosq\n"
      "mov %1, %%cr3\n"
      "1: jmp 1b\n" ::"r"(pml4), "r"(cr3)
      : "rdi", "rax", "rcx", "memory");
  for (;;) {
  }
}
