// How a ucall datum leaves the guest: TDG.VP.VMCALL<#VE.RequestMMIO> in a TD (the
// selftests' TDX ucall), a plain MMIO store in an ordinary VM. Also the final halt and
// the MMIO helpers guests use for their own devices, which take the same two paths.
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

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

bool valid_mmio_size(uint32_t size) { return size == 1 || size == 2 || size == 4 || size == 8; }

}  // namespace
}  // namespace tdsim::guest

using namespace tdsim;
using namespace tdsim::guest;

extern "C" {

bool tdsim_in_td(void) {
  int v = g_in_td;
  if (v < 0) {
    v = cpuid_says_tdx() ? 1 : 0;
    g_in_td = v;
  }
  return v == 1;
}

void tdsim_ucall_send(uint64_t data) {
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

uint64_t tdsim_mmio_write(uint64_t gpa, uint32_t size, uint64_t value) {
  if (!valid_mmio_size(size)) return abi::kVmcallInvalidOperand;
  gpa &= ~shared_bit();
  if (in_td()) return tdvmcall(abi::kVmcallRequestMmio, size, abi::kMmioWrite, gpa | shared_bit(), value).r10;
  asm volatile("" ::: "memory");
  switch (size) {
    case 1: *reinterpret_cast<volatile uint8_t*>(gpa) = static_cast<uint8_t>(value); break;
    case 2: *reinterpret_cast<volatile uint16_t*>(gpa) = static_cast<uint16_t>(value); break;
    case 4: *reinterpret_cast<volatile uint32_t*>(gpa) = static_cast<uint32_t>(value); break;
    default: *reinterpret_cast<volatile uint64_t*>(gpa) = value; break;
  }
  asm volatile("" ::: "memory");
  return abi::kVmcallSuccess;
}

uint64_t tdsim_mmio_read(uint64_t gpa, uint32_t size, uint64_t* value) {
  uint64_t v = 0;
  uint64_t status = abi::kVmcallSuccess;
  gpa &= ~shared_bit();
  if (!valid_mmio_size(size)) {
    status = abi::kVmcallInvalidOperand;
  } else if (in_td()) {
    const VmcallRegs r = tdvmcall(abi::kVmcallRequestMmio, size, abi::kMmioRead, gpa | shared_bit());
    status = r.r10;
    if (status == abi::kVmcallSuccess) v = r.r11;
  } else {
    asm volatile("" ::: "memory");
    switch (size) {
      case 1: v = *reinterpret_cast<volatile uint8_t*>(gpa); break;
      case 2: v = *reinterpret_cast<volatile uint16_t*>(gpa); break;
      case 4: v = *reinterpret_cast<volatile uint32_t*>(gpa); break;
      default: v = *reinterpret_cast<volatile uint64_t*>(gpa); break;
    }
    asm volatile("" ::: "memory");
  }
  if (value != nullptr) *value = v;
  return status;
}

void tdsim_halt_forever(void) {
  const bool td = in_td();
  for (;;) {
    if (td) {
      tdvmcall_hlt();
    } else {
      // This vCPU never returns, so it drops its IDT: no handler of the guest's may resume
      // it. tdsim's plain-KVM backend plays a TD although CPUID does not say TD, so this
      // HLT (with no #VE gate) is the TD's shutdown there; a terminal ucall came first.
      struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
      } const empty = {0, 0};
      asm volatile("lidt %0\n\tcli\n\thlt" : : "m"(empty) : "memory");
    }
  }
}

}  // extern "C"
