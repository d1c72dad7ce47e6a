// Every TDG.VP.VMCALL sub-function's round trip and its GHCI/KVM error cases, from
// inside the TD (docs/tdx-abi.md, "TDG.VP.VMCALL calling convention" and "KVM's handling
// of TDG.VP.VMCALL<MMIO>"). MMIO writes and reads also run in a plain VM (as ordinary
// MOVs); everything else is TDX-only.
#include "checks.h"
#include "conformance/conformance_abi.h"

namespace tdsim::conformance {

namespace {

using guest::tdvmcall;
using guest::VmcallRegs;

constexpr uint64_t kInvalid = abi::kVmcallInvalidOperand;

uint64_t scratch_gpa() { return (guest::ucall_mmio_gpa() & ~guest::shared_bit()) + kScratchMmioOffset; }

void mmio_plain_vm_checks() {
  // Outside a TD the page is identity mapped without the shared bit: plain accesses.
  auto* p = reinterpret_cast<volatile uint8_t*>(scratch_gpa());
  *reinterpret_cast<volatile uint8_t*>(p) = 0x11;
  *reinterpret_cast<volatile uint16_t*>(p) = 0x2222;
  *reinterpret_cast<volatile uint32_t*>(p) = 0x33333333;
  *reinterpret_cast<volatile uint64_t*>(p) = 0x4444444444444444;
  (void)*reinterpret_cast<volatile uint64_t*>(p);
  pass("mmio.plain_vm_write_read_1_2_4_8");
}

void mmio_checks() {
  const uint64_t s = guest::shared_bit();
  bool ok = true;
  static const uint64_t kSizes[] = {1, 2, 4, 8};
  for (uint64_t size : kSizes) {
    VmcallRegs w = tdvmcall(abi::kVmcallRequestMmio, size, abi::kMmioWrite, scratch_gpa() | s, 0x5a5a5a5a5a5a5a5a);
    VmcallRegs r = tdvmcall(abi::kVmcallRequestMmio, size, abi::kMmioRead, scratch_gpa() | s);
    ok = ok && w.rax == 0 && w.r10 == 0 && r.rax == 0 && r.r10 == 0 &&
         (size == 8 || (r.r11 >> (8 * size)) == 0);
  }
  if (ok)
    pass("mmio.write_read_1_2_4_8");
  else
    fail("mmio.write_read_1_2_4_8", "a write or read failed or a read returned more than `size` bytes");
  expect_eq("mmio.bad_size", tdvmcall(abi::kVmcallRequestMmio, 3, abi::kMmioWrite, scratch_gpa() | s).r10, kInvalid);
  expect_eq("mmio.bad_direction", tdvmcall(abi::kVmcallRequestMmio, 8, 2, scratch_gpa() | s).r10, kInvalid);
  expect_eq("mmio.private_gpa", tdvmcall(abi::kVmcallRequestMmio, 8, abi::kMmioWrite, scratch_gpa()).r10, kInvalid);
}

void cpuid_checks() {
  VmcallRegs v = tdvmcall(abi::kVmcallCpuid, 0x80000008, 0);
  expect_eq("cpuid.status", v.r10, abi::kVmcallSuccess);
  expect_eq("cpuid.80000008_gpaw", (v.r12 >> 16) & 0xff, guest::gpaw());
  v = tdvmcall(abi::kVmcallCpuid, 0, 0);
  if (v.r12 >= 1 && v.r13 == 0x756e6547)  // "Genu"
    pass("cpuid.leaf0_vendor");
  else
    fail("cpuid.leaf0_vendor", "max leaf %#lx, EBX %#lx", v.r12, v.r13);
  // Outputs go back only into exposed registers: R13..R15 not exposed keep their values.
  VmcallRegs m;
  m.rcx = 0x1c00;  // R10, R11, R12
  m.r11 = abi::kVmcallCpuid;
  m.r12 = 0;
  m.r13 = 0x1111;
  m.r14 = 0x2222;
  m.r15 = 0x3333;
  guest::tdcall(m);
  if (m.r10 == 0 && m.r13 == 0x1111 && m.r14 == 0x2222 && m.r15 == 0x3333)
    pass("vmcall.unexposed_outputs_untouched");
  else
    fail("vmcall.unexposed_outputs_untouched", "R10 %#lx R13 %#lx R14 %#lx R15 %#lx", m.r10, m.r13, m.r14, m.r15);
}

void io_msr_checks() {
  expect_eq("io.write_port80", tdvmcall(abi::kVmcallIo, 1, 1, 0x80, 0x42).r10, 0);
  VmcallRegs r = tdvmcall(abi::kVmcallIo, 2, 0, 0x80);
  if (r.r10 == 0 && (r.r11 >> 16) == 0)
    pass("io.read_2_bytes");
  else
    fail("io.read_2_bytes", "R10 %#lx R11 %#lx", r.r10, r.r11);
  expect_eq("io.bad_size", tdvmcall(abi::kVmcallIo, 3, 0, 0x80).r10, kInvalid);
  expect_eq("io.bad_direction", tdvmcall(abi::kVmcallIo, 1, 2, 0x80).r10, kInvalid);
  r = tdvmcall(abi::kVmcallRdmsr, 0x1b);
  if (r.r10 == 0 && (r.r11 & (1u << 11)))
    pass("msr.rdmsr_apic_base");
  else
    fail("msr.rdmsr_apic_base", "R10 %#lx value %#lx", r.r10, r.r11);
  expect_eq("msr.rdmsr_unknown", tdvmcall(abi::kVmcallRdmsr, 0x4b564dff).r10, kInvalid);
  expect_eq("msr.wrmsr_pat", tdvmcall(abi::kVmcallWrmsr, 0x277, 0x0007040600070406).r10, 0);
  expect_eq("msr.wrmsr_unknown", tdvmcall(abi::kVmcallWrmsr, 0x4b564dff, 1).r10, kInvalid);
}

void ghci_checks() {
  const uint64_t s = guest::shared_bit();
  const uint64_t shared_page = (guest::ucall_mmio_gpa() & ~uint64_t{0xfff}) | s;
  VmcallRegs v = tdvmcall(abi::kVmcallMapGpa, shared_page, 0x1000);
  for (int i = 0; i < 16 && v.r10 == abi::kVmcallRetry; ++i)
    v = tdvmcall(abi::kVmcallMapGpa, v.r11, shared_page + 0x1000 - v.r11);
  expect_eq("map_gpa.to_shared", v.r10, 0);
  v = tdvmcall(abi::kVmcallMapGpa, shared_page + 8, 0x1000);
  if (v.r10 == abi::kVmcallAlignError && v.r11 == shared_page + 8)
    pass("map_gpa.unaligned");
  else
    fail("map_gpa.unaligned", "R10 %#lx R11 %#lx", v.r10, v.r11);
  expect_eq("map_gpa.beyond_gpaw", tdvmcall(abi::kVmcallMapGpa, 1ull << guest::gpaw(), 0x1000).r10, kInvalid);
  expect_eq("get_quote.shared_buffer", tdvmcall(abi::kVmcallGetQuote, shared_page, 0x1000).r10, 0);
  expect_eq("get_quote.private_buffer", tdvmcall(abi::kVmcallGetQuote, shared_page & ~s, 0x1000).r10, kInvalid);
  expect_eq("setup_event_notify.vector_64", tdvmcall(abi::kVmcallSetupEventNotifyInterrupt, 64).r10, 0);
  expect_eq("setup_event_notify.vector_5", tdvmcall(abi::kVmcallSetupEventNotifyInterrupt, 5).r10, kInvalid);
  v = tdvmcall(abi::kVmcallGetTdVmCallInfo, 0, 1, 1, 1);
  if (v.r10 == 0 && v.r11 == 0 && v.r12 == 0 && v.r13 == 0 && v.r14 == 0)
    pass("get_tdvmcall_info.leaf0");
  else
    fail("get_tdvmcall_info.leaf0", "R10 %#lx R11..R14 %#lx %#lx %#lx %#lx", v.r10, v.r11, v.r12, v.r13, v.r14);
  expect_eq("get_tdvmcall_info.bad_leaf", tdvmcall(abi::kVmcallGetTdVmCallInfo, 7).r10, kInvalid);
  expect_eq("vmcall.unknown_subfn", tdvmcall(0x12345).r10, abi::kVmcallSubfnUnsupported);
  VmcallRegs h;
  h.r10 = 1;  // KVM_HC_VAPIC_POLL_IRQ
  guest::tdcall(h);
  expect_eq("vmcall.kvm_hypercall_vapic_poll", h.r10, 0);
  h = VmcallRegs{};
  h.r10 = 0x7777;
  guest::tdcall(h);
  expect_eq("vmcall.kvm_hypercall_unknown_enosys", h.r10, static_cast<uint64_t>(-1000));
  h = VmcallRegs{};
  h.rcx = 0xfc01;  // exposes RAX: refused by the TDX module
  h.r10 = 0x1234;
  guest::tdcall(h);
  if (h.rax == (abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx) && h.r10 == 0x1234)
    pass("vmcall.forbidden_expose_bit");
  else
    fail("vmcall.forbidden_expose_bit", "RAX %#lx R10 %#lx", h.rax, h.r10);
  h = VmcallRegs{};
  h.rcx = 0xbc00;  // R14 not exposed: the VMM reads GPA 0, a private GPA
  h.r11 = abi::kVmcallRequestMmio;
  h.r12 = 8;
  h.r13 = abi::kMmioWrite;
  h.r14 = scratch_gpa() | s;
  guest::tdcall(h);
  expect_eq("vmcall.unexposed_inputs_read_zero", h.r10, kInvalid);
}

}  // namespace

void vmcall_checks() {
  if (!guest::in_td()) {
    mmio_plain_vm_checks();
    skip("vmcall", "not a TD: CPUID 0x21 does not report IntelTDX");
    return;
  }
  // Every check reports on every backend (the host numbers them from one catalogue).
  skip("mmio.plain_vm_write_read_1_2_4_8", "a TD reaches MMIO through TDG.VP.VMCALL, checked next");
  mmio_checks();
  cpuid_checks();
  io_msr_checks();
  ghci_checks();
}

}  // namespace tdsim::conformance
