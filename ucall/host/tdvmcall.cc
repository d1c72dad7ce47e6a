#include "tdvmcall.h"

#include <fmt/format.h>

#include <bit>

#include "tdsim/abi/tdx.h"

namespace tdsim::ucall {

namespace {

bool exposed(uint64_t rcx, int gpr) { return (rcx >> gpr) & 1; }

VmcallMmioDecision rejected(uint64_t rax, uint64_t r10, std::string reason) {
  VmcallMmioDecision d;
  d.kind = VmcallMmioDecision::Kind::kRejected;
  d.rax = rax;
  d.r10 = r10;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

TdcallRegs vmm_view(const TdcallRegs& regs) {
  const uint64_t m = regs.rcx;
  TdcallRegs v;
  v.rax = exposed(m, 0) ? regs.rax : 0;
  v.rcx = regs.rcx;
  v.rdx = exposed(m, 2) ? regs.rdx : 0;
  v.rbx = exposed(m, 3) ? regs.rbx : 0;
  v.rsi = exposed(m, 6) ? regs.rsi : 0;
  v.rdi = exposed(m, 7) ? regs.rdi : 0;
  v.r8 = exposed(m, 8) ? regs.r8 : 0;
  v.r9 = exposed(m, 9) ? regs.r9 : 0;
  v.r10 = exposed(m, 10) ? regs.r10 : 0;
  v.r11 = exposed(m, 11) ? regs.r11 : 0;
  v.r12 = exposed(m, 12) ? regs.r12 : 0;
  v.r13 = exposed(m, 13) ? regs.r13 : 0;
  v.r14 = exposed(m, 14) ? regs.r14 : 0;
  v.r15 = exposed(m, 15) ? regs.r15 : 0;
  return v;
}

VmcallMmioDecision check_vmcall_mmio(const TdcallRegs& regs, uint64_t shared_bit, uint32_t vcpu) {
  if (regs.rax != abi::kTdgVpVmcall) return {};

  // The TDX module checks the expose mask before the VMM ever runs: no exit, status in
  // RAX, every other register (R10 included) untouched.
  const uint64_t bad = regs.rcx & (abi::kVmcallForbiddenExposeBits | abi::kVmcallReservedExposeBits);
  if (bad)
    return rejected(abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx, regs.r10,
                    fmt::format("TDG.VP.VMCALL expose mask RCX {:#x} sets forbidden or reserved "
                                "bits {:#x} (RAX, RCX, RSP, RBP with NO_RBP_MOD, or 63:32)",
                                regs.rcx, bad));

  // From here on this is KVM's view: registers the guest did not expose read as 0.
  const TdcallRegs v = vmm_view(regs);
  if (v.r10 != abi::kVmcallStandard) return {};  // a KVM hypercall
  if (v.r11 != abi::kVmcallRequestMmio) return {};

  const uint64_t size = v.r12;
  if (size != 1 && size != 2 && size != 4 && size != 8)
    return rejected(0, abi::kVmcallInvalidOperand,
                    fmt::format("#VE.RequestMMIO size R12 = {} (must be 1, 2, 4 or 8{})", size,
                                exposed(regs.rcx, 12) ? "" : "; R12 not exposed in RCX"));
  if (v.r13 != abi::kMmioRead && v.r13 != abi::kMmioWrite)
    return rejected(0, abi::kVmcallInvalidOperand,
                    fmt::format("#VE.RequestMMIO direction R13 = {} (must be 0 read or 1 write)",
                                v.r13));

  const uint64_t gpa = v.r14, last = gpa + size - 1;
  if (!(gpa & shared_bit) || !(last & shared_bit))
    return rejected(0, abi::kVmcallInvalidOperand,
                    fmt::format("#VE.RequestMMIO GPA R14 = {:#x} (size {}) is private: shared "
                                "bit {:#x} (bit {}) clear{}",
                                gpa, size, shared_bit, std::countr_zero(shared_bit | (1ull << 63)),
                                exposed(regs.rcx, 14) ? "" : "; R14 not exposed in RCX"));

  VmcallMmioDecision d;
  d.kind = VmcallMmioDecision::Kind::kExit;
  d.mmio.vcpu = vcpu;
  d.mmio.gpa = gpa & ~shared_bit;
  d.mmio.len = static_cast<uint32_t>(size);
  d.mmio.is_write = v.r13 == abi::kMmioWrite;
  d.mmio.data = d.mmio.is_write ? mask_to_access_size(v.r15, size) : 0;
  d.rax = abi::kTdxSuccess;
  d.r10 = abi::kVmcallSuccess;
  return d;
}

}  // namespace tdsim::ucall
