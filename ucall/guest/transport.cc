// How a ucall datum leaves the guest: TDG.VP.VMCALL<#VE.RequestMMIO> in a TD (the
// selftests' TDX ucall), a plain MMIO store in an ordinary VM. Also the final halt.
#include "ucall/guest/guest.h"

namespace tdsim::guest {
namespace {

// -1 unknown, 0 no, 1 yes. A race between vCPUs only computes the same answer twice.
volatile int g_in_td = -1;

bool cpuid_says_tdx() {
  // Like Linux's tdx_early_init: the signature alone decides, max leaf is not consulted.
  const CpuidRegs r = cpuid(0x21, 0);
  // "IntelTDX    " as EBX, EDX, ECX, little-endian.
  return r.ebx == 0x65746e49u && r.edx == 0x5844546cu && r.ecx == 0x20202020u;
}

}  // namespace

bool in_td() {
  int v = g_in_td;
  if (v < 0) {
    v = cpuid_says_tdx() ? 1 : 0;
    g_in_td = v;
  }
  return v == 1;
}

void ucall_send(uint64_t data) {
  const uint64_t gpa = ucall_mmio_gpa();
  if (in_td()) {
    uint64_t status = 0;
    // Not checked, like the selftests: a rejected ucall shows up on the host side as a
    // missing event, and the guest has nobody to report it to.
    tdcall_vmcall_mmio_write(gpa, data, &status);
    return;
  }
  // Outside a TD the MMIO page is identity mapped without the shared bit.
  auto* reg = reinterpret_cast<volatile uint64_t*>(gpa & ~shared_bit());
  asm volatile("" ::: "memory");
  *reg = data;
  asm volatile("" ::: "memory");
}

void halt_forever() {
  const bool td = in_td();
  for (;;) {
    if (td) {
      tdvmcall_hlt();
    } else {
      asm volatile("cli; hlt" ::: "memory");
    }
  }
}

}  // namespace tdsim::guest
