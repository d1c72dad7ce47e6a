#include "tdx_module.h"

#include <fmt/format.h>

#include "tdsim/abi/tdx.h"
#include "ucall/host/ucall_decoder.h"

namespace tdsim::sim {

namespace {

using ucall::TdcallRegs;

// The TDX module hands the VMM's R10/R11 back to the guest only for exposed registers.
void set_vmcall_outputs(TdcallRegs& regs, uint64_t r10, std::optional<uint64_t> r11) {
  if ((regs.rcx >> 10) & 1) regs.r10 = r10;
  if (r11 && ((regs.rcx >> 11) & 1)) regs.r11 = *r11;
}

TdcallRejectedEvent rejection(uint32_t vcpu, uint64_t rip, uint64_t leaf, uint64_t subfn,
                              uint64_t status, std::string reason) {
  return TdcallRejectedEvent{vcpu, rip, leaf, subfn, status, std::move(reason)};
}

}  // namespace

TdcallResult TdxModule::tdcall(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) const {
  TdcallResult out;
  out.regs = in;

  if (in.rax != abi::kTdgVpVmcall) {
    out.regs.rax = abi::kTdxOperandInvalid | 0;  // operand id 0: RAX (the leaf)
    out.event = rejection(vcpu, rip, in.rax, 0, out.regs.rax,
                          fmt::format("TDCALL leaf {} is not implemented by the simulator's "
                                      "TDX module (only TDG.VP.VMCALL, leaf 0)",
                                      in.rax));
    return out;
  }

  const ucall::VmcallMmioDecision d = ucall::check_vmcall_mmio(in, image_.shared_bit, vcpu);
  const TdcallRegs view = ucall::vmm_view(in);
  switch (d.kind) {
    case ucall::VmcallMmioDecision::Kind::kRejected:
      out.regs.rax = d.rax;
      if (d.rax == abi::kTdxSuccess) set_vmcall_outputs(out.regs, d.r10, std::nullopt);
      out.event = rejection(vcpu, rip, 0, view.r11, d.rax ? d.rax : d.r10, d.reason);
      return out;
    case ucall::VmcallMmioDecision::Kind::kExit:
      out.regs.rax = abi::kTdxSuccess;
      if (d.mmio.is_write) {
        set_vmcall_outputs(out.regs, abi::kVmcallSuccess, std::nullopt);
        out.event = ucall::decode_mmio(mem_, d.mmio, image_.ucall_mmio_gpa, image_.shared_bit);
      } else {
        set_vmcall_outputs(out.regs, abi::kVmcallSuccess, 0);
        out.event = d.mmio;
      }
      out.stop = is_terminal(*out.event);
      return out;
    case ucall::VmcallMmioDecision::Kind::kNotMmio:
      break;
  }

  out.regs.rax = abi::kTdxSuccess;
  if (view.r10 != abi::kVmcallStandard) {
    // KVM hypercall ABI through TDX: nr = R10, args R11..R14; result in R10.
    if (view.r10 == kKvmHcVapicPollIrq) {
      set_vmcall_outputs(out.regs, 0, std::nullopt);
      return out;
    }
    set_vmcall_outputs(out.regs, kKvmEnosys, std::nullopt);
    out.event = rejection(vcpu, rip, 0, view.r11, kKvmEnosys,
                          fmt::format("KVM hypercall {} (R10) unknown: -KVM_ENOSYS", view.r10));
    return out;
  }
  if (view.r11 == abi::kVmcallHlt) {
    set_vmcall_outputs(out.regs, abi::kVmcallSuccess, std::nullopt);
    out.event = HaltEvent{vcpu, rip + 4};
    out.stop = true;
    return out;
  }
  set_vmcall_outputs(out.regs, abi::kVmcallSubfnUnsupported, std::nullopt);
  out.event = rejection(vcpu, rip, 0, view.r11, abi::kVmcallSubfnUnsupported,
                        fmt::format("TDG.VP.VMCALL sub-function {:#x} (R11) not supported by "
                                    "the simulator",
                                    view.r11));
  return out;
}

}  // namespace tdsim::sim
