#include "tdcall_emulation.h"

#include <fmt/format.h>

#include <cstring>

#include "exit_events.h"
#include "kvm_sys.h"
#include "tdsim/abi/tdx.h"
#include "ucall/host/tdvmcall.h"
#include "ucall/host/ucall_decoder.h"

namespace tdsim::kvm {

namespace {

constexpr uint32_t kTdcallLen = sizeof abi::kTdcallBytes;

ucall::TdcallRegs to_tdcall_regs(const kvm_regs& r) {
  ucall::TdcallRegs t;
  t.rax = r.rax; t.rcx = r.rcx; t.rdx = r.rdx; t.rbx = r.rbx;
  t.rsi = r.rsi; t.rdi = r.rdi; t.r8 = r.r8; t.r9 = r.r9;
  t.r10 = r.r10; t.r11 = r.r11; t.r12 = r.r12; t.r13 = r.r13;
  t.r14 = r.r14; t.r15 = r.r15;
  return t;
}

}  // namespace

bool is_tdcall_emulation_failure(const kvm_run& run) {
  const uint8_t* b;
  uint32_t n;
  return emulation_failure_bytes(run, &b, &n) && n >= kTdcallLen &&
         std::memcmp(b, abi::kTdcallBytes, kTdcallLen) == 0;
}

bool emulate_tdcall(KvmVcpu& vcpu, uint32_t index, const TdImage& image, const GuestMemory& mem,
                    const MmioReadHandler& read, const Emit& emit) {
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  const uint64_t rip = regs.rip;
  Event ev;
  if (regs.rax != abi::kTdgVpVmcall) {
    // Plain KVM has no TDX module: only the VMCALL leaf is emulated. Refusing the others
    // keeps this backend from passing a guest that real hardware might treat differently.
    ev = TdcallRejectedEvent{index, rip, regs.rax, 0, abi::kTdxOperandInvalid,
                             fmt::format("TDCALL leaf {} is not emulated by the kvm backend",
                                         regs.rax)};
    regs.rax = abi::kTdxOperandInvalid;
  } else {
    const ucall::VmcallMmioDecision d =
        ucall::check_vmcall_mmio(to_tdcall_regs(regs), image.shared_bit, index);
    switch (d.kind) {
      case ucall::VmcallMmioDecision::Kind::kExit: {
        MmioEvent m = d.mmio;
        if (!m.is_write) regs.r11 = m.data = answer_mmio_read(read, index, m.gpa, m.len);
        ev = ucall::decode_mmio(mem, m, image.ucall_mmio_gpa, image.shared_bit);
        regs.rax = d.rax;
        regs.r10 = d.r10;
        break;
      }
      case ucall::VmcallMmioDecision::Kind::kRejected:
        ev = TdcallRejectedEvent{index, rip, abi::kTdgVpVmcall, regs.r11,
                                 d.rax != abi::kTdxSuccess ? d.rax : d.r10, d.reason};
        regs.rax = d.rax;
        regs.r10 = d.r10;
        break;
      case ucall::VmcallMmioDecision::Kind::kNotMmio:
        ev = TdcallRejectedEvent{
            index, rip, abi::kTdgVpVmcall, regs.r11, abi::kVmcallSubfnUnsupported,
            fmt::format("TDG.VP.VMCALL sub-function 0x{:x} (R10 0x{:x}) is not emulated by "
                        "the kvm backend",
                        regs.r11, regs.r10)};
        regs.rax = abi::kTdxSuccess;
        regs.r10 = abi::kVmcallSubfnUnsupported;
        break;
    }
  }
  regs.rip = rip + kTdcallLen;  // TDCALL is trap-like: the guest resumes after it
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
  return !emit(ev);
}

}  // namespace tdsim::kvm
