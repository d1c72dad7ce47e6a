// KVM's side of the standard TDG.VP.VMCALL sub-functions (Linux arch/x86/kvm/vmx/tdx.c,
// docs/tdx-abi.md, "TDG.VP.VMCALL calling convention"): what status and outputs the guest
// gets, and what userspace sees.
// Userspace exits are completed by the simulated VMM (defaults in TdxConfig, device
// answers from HostHooks) and reported as events.
#include <fmt/format.h>

#include "core/backend.h"
#include "tdsim/abi/tdx.h"
#include "tdx_module.h"
#include "ucall/host/ucall_decoder.h"

namespace tdsim::tdx {

namespace {

constexpr uint64_t kMsrApicBase = 0x1b;
constexpr uint64_t kMsrMiscEnable = 0x1a0;
constexpr uint64_t kMsrPat = 0x277;
constexpr uint64_t kMsrTscDeadline = 0x6e0;
constexpr uint64_t kMsrMtrrDefType = 0x2ff;
constexpr uint64_t kPatDefault = 0x0007040600070406ull;
// KVM's reset value: PEBS and BTS unavailable.
constexpr uint64_t kMiscEnableDefault = (1u << 11) | (1u << 12);
// x2APIC enabled, xAPIC global enable, default base; BSP flag on vCPU 0.
constexpr uint64_t kApicBaseDefault = 0xfee00000ull | (1u << 11) | (1u << 10);

VmcallReply status(uint64_t r10) { return VmcallReply{r10, {}, {}, {}, {}, {}}; }

// ReportFatalError's optional message: up to 64 bytes in R14, R15, RBX, RDI, RSI, R8,
// R9, RDX (GHCI; Linux tdx_panic), NUL-terminated or full.
std::string fatal_message(const ucall::TdcallRegs& v) {
  const uint64_t regs[] = {v.r14, v.r15, v.rbx, v.rdi, v.rsi, v.r8, v.r9, v.rdx};
  std::string s;
  for (uint64_t r : regs)
    for (int i = 0; i < 8; ++i) {
      const char c = static_cast<char>(r >> (8 * i));
      if (c == '\0') return s;
      s.push_back(c);
    }
  return s;
}

}  // namespace

VmcallReply TdxModule::kvm_subfn(const VmcallRequest& req, std::optional<Event>& event, bool& stop,
                                 std::string& why) {
  const ucall::TdcallRegs& v = req.regs;
  const uint32_t vcpu = req.vcpu;
  switch (v.r11) {
    case abi::kVmcallCpuid: {
      const CpuidValue c = cpuid_.answer(static_cast<uint32_t>(v.r12), static_cast<uint32_t>(v.r13));
      return VmcallReply{abi::kVmcallSuccess, {}, c.eax, c.ebx, c.ecx, c.edx};
    }
    case abi::kVmcallHlt:
      // No interrupt source exists in the simulator: the halt is final.
      event = HaltEvent{vcpu, req.rip};
      stop = true;
      return status(abi::kVmcallSuccess);
    case abi::kVmcallIo: {
      const uint64_t size = v.r12, dir = v.r13, port = v.r14;
      if (size != 1 && size != 2 && size != 4) {
        why = fmt::format("Instruction.IO size R12 = {} (must be 1, 2 or 4)", size);
        return status(abi::kVmcallInvalidOperand);
      }
      if (dir > 1) {
        why = fmt::format("Instruction.IO direction R13 = {} (must be 0 in or 1 out)", dir);
        return status(abi::kVmcallInvalidOperand);
      }
      if (port > 0xffff) {
        why = fmt::format("Instruction.IO port R14 = {:#x} exceeds 0xffff", port);
        return status(abi::kVmcallInvalidOperand);
      }
      const auto p = static_cast<uint16_t>(port);
      if (dir == 1) {
        if (cfg_.hooks.io_write) cfg_.hooks.io_write(vcpu, p, static_cast<uint32_t>(size), mask_to_access_size(v.r15, size));
        return status(abi::kVmcallSuccess);
      }
      std::optional<uint64_t> val;
      if (cfg_.hooks.io_read) val = cfg_.hooks.io_read(vcpu, p, static_cast<uint32_t>(size));
      const uint64_t dflt = cfg_.io_read_all_ones ? ~0ull : 0;
      return VmcallReply{abi::kVmcallSuccess, mask_to_access_size(val.value_or(dflt), size), {}, {}, {}, {}};
    }
    case abi::kVmcallRdmsr: {
      const uint64_t msr = v.r12;
      if (auto it = msr_writes_.find({vcpu, msr}); it != msr_writes_.end())
        return VmcallReply{abi::kVmcallSuccess, it->second, {}, {}, {}, {}};
      std::optional<uint64_t> val;
      switch (msr) {
        case kMsrApicBase: val = kApicBaseDefault | (vcpu == 0 ? (1u << 8) : 0); break;
        case kMsrMiscEnable: val = kMiscEnableDefault; break;
        case kMsrPat: val = kPatDefault; break;
        case kMsrTscDeadline: case kMsrMtrrDefType: val = 0; break;
        default: break;
      }
      if (!val) {
        why = fmt::format("RDMSR {:#x} (R12): MSR not modelled (KVM: kvm_get_msr failed)", msr);
        return status(abi::kVmcallInvalidOperand);
      }
      return VmcallReply{abi::kVmcallSuccess, *val, {}, {}, {}, {}};
    }
    case abi::kVmcallWrmsr: {
      const uint64_t msr = v.r12, val = v.r13;
      const bool writable = msr == kMsrPat || msr == kMsrTscDeadline || msr == kMsrMtrrDefType;
      if (!writable) {
        why = fmt::format("WRMSR {:#x} (R12) value {:#x}: {}", msr, val,
                          msr == kMsrApicBase ? "APIC_BASE is read-only for TDs"
                                              : "MSR not modelled or read-only (KVM: kvm_set_msr failed)");
        return status(abi::kVmcallInvalidOperand);
      }
      msr_writes_[{vcpu, msr}] = val;
      return status(abi::kVmcallSuccess);
    }
    case abi::kVmcallRequestMmio: {
      const ucall::VmcallMmioDecision d = ucall::check_vmcall_mmio(v, image_.shared_bit, vcpu);
      if (d.kind == ucall::VmcallMmioDecision::Kind::kRejected) {
        why = d.reason;
        return status(d.r10);
      }
      if (d.mmio.is_write) {
        event = ucall::decode_mmio(mem_, d.mmio, image_.ucall_mmio_gpa, image_.shared_bit);
        stop = is_terminal(*event);
        return status(abi::kVmcallSuccess);
      }
      MmioEvent m = d.mmio;
      m.data = answer_mmio_read(cfg_.hooks.mmio_read, vcpu, m.gpa, m.len);
      event = m;
      return VmcallReply{abi::kVmcallSuccess, m.data, {}, {}, {}, {}};
    }
    case abi::kVmcallGetTdVmCallInfo:
      if (v.r12 == abi::kGetTdVmCallInfoLeaf0)
        return VmcallReply{abi::kVmcallSuccess, 0, 0, 0, 0, {}};
      if (v.r12 == abi::kGetTdVmCallInfoLeaf1) {
        // KVM_EXIT_TDX to userspace; this VMM reports no optional sub-functions.
        event = VmcallExitEvent{vcpu, req.rip, v.r11, 0, 0, v.r12, abi::kVmcallSuccess};
        return VmcallReply{abi::kVmcallSuccess, 0, 0, 0, 0, {}};
      }
      why = fmt::format("GetTdVmCallInfo leaf R12 = {:#x} (must be 0 or 1)", v.r12);
      return status(abi::kVmcallInvalidOperand);
    case abi::kVmcallMapGpa: {
      if (!cfg_.map_gpa_enabled) {
        why = "MapGPA: userspace did not enable KVM_HC_MAP_GPA_RANGE exits";
        return status(abi::kVmcallSubfnUnsupported);
      }
      const uint64_t gpa = v.r12, size = v.r13, end = gpa + size;
      const uint64_t limit = image_.gpaw >= 64 ? ~0ull : (1ull << image_.gpaw);
      const bool priv_start = !(gpa & image_.shared_bit), priv_last = !((end - 1) & image_.shared_bit);
      // tdx_map_gpa: range checks first (INVALID_OPERAND), then alignment; R11 = GPA.
      if (size == 0 || end <= gpa || gpa >= limit || end - 1 >= limit || priv_start != priv_last) {
        why = fmt::format("MapGPA range R12 = {:#x} size R13 = {:#x}: empty, wrapping, beyond GPAW "
                          "{} or crossing the shared bit",
                          gpa, size, image_.gpaw);
        return VmcallReply{abi::kVmcallInvalidOperand, gpa, {}, {}, {}, {}};
      }
      if ((gpa | size) & 0xfff) {
        why = fmt::format("MapGPA GPA R12 = {:#x} or size R13 = {:#x} not 4 KiB aligned", gpa, size);
        return VmcallReply{abi::kVmcallAlignError, gpa, {}, {}, {}, {}};
      }
      // KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE) per 2 MiB chunk; with no interrupts
      // pending KVM never returns RETRY, so the whole range completes in one go.
      event = VmcallExitEvent{vcpu, req.rip, v.r11, gpa, size, 0, abi::kVmcallSuccess};
      return status(abi::kVmcallSuccess);
    }
    case abi::kVmcallGetQuote:
      if (!(v.r12 & image_.shared_bit)) {
        why = fmt::format("GetQuote buffer R12 = {:#x} is private (shared bit {:#x} clear)", v.r12,
                          image_.shared_bit);
        return status(abi::kVmcallInvalidOperand);
      }
      event = VmcallExitEvent{vcpu, req.rip, v.r11, v.r12, v.r13, 0, abi::kVmcallSuccess};
      return status(abi::kVmcallSuccess);
    case abi::kVmcallReportFatalError: {
      const uint64_t code = v.r12;
      std::string detail = fmt::format("TDG.VP.VMCALL<ReportFatalError> error code {:#x}", code);
      if (code >> 63) detail += fmt::format(", extra info at GPA {:#x}", v.r13);
      const std::string msg = fatal_message(v);
      if (!msg.empty()) detail += fmt::format(": \"{}\"", msg);
      event = FaultEvent{vcpu, req.rip, -1, code, false, std::move(detail)};
      stop = true;
      return status(abi::kVmcallSuccess);
    }
    case abi::kVmcallSetupEventNotifyInterrupt:
      if (v.r12 < 32 || v.r12 > 255) {
        why = fmt::format("SetupEventNotifyInterrupt vector R12 = {} (must be 32..255)", v.r12);
        return status(abi::kVmcallInvalidOperand);
      }
      event = VmcallExitEvent{vcpu, req.rip, v.r11, 0, 0, v.r12, abi::kVmcallSuccess};
      return status(abi::kVmcallSuccess);
    default:
      why = fmt::format("TDG.VP.VMCALL sub-function {:#x} (R11) not supported", v.r11);
      return status(abi::kVmcallSubfnUnsupported);
  }
}

}  // namespace tdsim::tdx
