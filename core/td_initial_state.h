// The architectural state a TD vCPU starts in (TDH.VP.INIT and the TD VMCS set-up; facts
// in docs/tdx-abi.md, "TD initial vCPU state"), as one value every mechanism loads into
// its engine and the diagnostics compare against. Knows TdImage only.
#pragma once
#include <cstdint>

#include "td_image.h"
#include "tdsim/abi/tdx.h"

namespace tdsim {

struct TdInitialVcpuState {
  // General registers; RDX is the platform's CPUID(1).EAX, which only the engine knows.
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rbp = 0, rsp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = abi::kTdInitRip;
  uint64_t rflags = abi::kTdInitRflags;
  uint64_t cr0 = abi::kTdInitCr0, cr3 = 0, cr4 = abi::kTdInitCr4;
  uint64_t efer = abi::kTdInitEfer;
  uint64_t gdtr_base = 0, gdtr_limit = abi::kTdInitGdtrLimit;
  uint64_t idtr_base = 0, idtr_limit = 0;
  // Every segment: selector 0, base 0, limit 4 GiB, flat 32-bit (attributes in the VMX
  // access-rights layout).
  uint16_t selector = 0;
  uint16_t code_ar = abi::kTdInitCodeAr, data_ar = abi::kTdInitDataAr;
};

// vCPU `index` of `image`: RBX = GPAW, RCX and R8 = the image's INIT_VCPU value, RSI =
// the vCPU index, RDX = `cpuid1_eax`.
TdInitialVcpuState td_initial_vcpu_state(const TdImage& image, uint32_t index, uint64_t cpuid1_eax);

}  // namespace tdsim
