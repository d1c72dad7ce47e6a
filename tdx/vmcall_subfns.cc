// KVM's side of the standard TDG.VP.VMCALL sub-functions (Linux arch/x86/kvm/vmx/tdx.c,
// docs/tdx-abi.md, "TDG.VP.VMCALL calling convention"): what status and outputs the guest
// gets, and what userspace sees.
// Userspace exits are completed by the simulated VMM (defaults in TdxConfig, device
// answers from HostHooks) and reported as events. One handler per sub-function, listed
// in the table at the end: a new sub-function is its ABI number plus one entry here.
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

SubfnResult ok(VmcallReply r = status(abi::kVmcallSuccess)) { return SubfnResult{r, std::nullopt, false, {}}; }
SubfnResult refuse(uint64_t r10, std::string why) { return SubfnResult{status(r10), std::nullopt, false, std::move(why)}; }
SubfnResult refuse(VmcallReply r, std::string why) { return SubfnResult{r, std::nullopt, false, std::move(why)}; }
SubfnResult with_event(Event e, VmcallReply r = status(abi::kVmcallSuccess), bool stop = false) {
  return SubfnResult{r, std::move(e), stop, {}};
}

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

SubfnResult TdxModule::subfn_cpuid(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  const CpuidValue c = cpuid_.answer(static_cast<uint32_t>(v.r12), static_cast<uint32_t>(v.r13));
  return ok(VmcallReply{abi::kVmcallSuccess, {}, c.eax, c.ebx, c.ecx, c.edx});
}

SubfnResult TdxModule::subfn_hlt(const VmcallRequest& req) {
  // No interrupt source exists in the simulator: the vCPU stops; a host may resume it.
  return with_event(HaltEvent{req.vcpu, req.rip}, status(abi::kVmcallSuccess), true);
}

SubfnResult TdxModule::subfn_io(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  const uint64_t size = v.r12, dir = v.r13, port = v.r14;
  if (size != 1 && size != 2 && size != 4)
    return refuse(abi::kVmcallInvalidOperand, fmt::format("Instruction.IO size R12 = {} (must be 1, 2 or 4)", size));
  if (dir > 1)
    return refuse(abi::kVmcallInvalidOperand, fmt::format("Instruction.IO direction R13 = {} (must be 0 in or 1 out)", dir));
  if (port > 0xffff)
    return refuse(abi::kVmcallInvalidOperand, fmt::format("Instruction.IO port R14 = {:#x} exceeds 0xffff", port));
  const auto p = static_cast<uint16_t>(port);
  if (dir == 1) {
    if (cfg_.hooks.io_write) cfg_.hooks.io_write(req.vcpu, p, static_cast<uint32_t>(size), mask_to_access_size(v.r15, size));
    return ok();
  }
  std::optional<uint64_t> val;
  if (cfg_.hooks.io_read) val = cfg_.hooks.io_read(req.vcpu, p, static_cast<uint32_t>(size));
  const uint64_t dflt = cfg_.io_read_all_ones ? ~0ull : 0;
  return ok(VmcallReply{abi::kVmcallSuccess, mask_to_access_size(val.value_or(dflt), size), {}, {}, {}, {}});
}

SubfnResult TdxModule::subfn_rdmsr(const VmcallRequest& req) {
  const uint64_t msr = req.regs.r12;
  if (auto it = msr_writes_.find({req.vcpu, msr}); it != msr_writes_.end())
    return ok(VmcallReply{abi::kVmcallSuccess, it->second, {}, {}, {}, {}});
  std::optional<uint64_t> val;
  switch (msr) {
    case kMsrApicBase: val = kApicBaseDefault | (req.vcpu == 0 ? (1u << 8) : 0); break;
    case kMsrMiscEnable: val = kMiscEnableDefault; break;
    case kMsrPat: val = kPatDefault; break;
    case kMsrTscDeadline: case kMsrMtrrDefType: val = 0; break;
    default: break;
  }
  if (!val)
    return refuse(abi::kVmcallInvalidOperand,
                  fmt::format("RDMSR {:#x} (R12): MSR not modelled (KVM: kvm_get_msr failed)", msr));
  return ok(VmcallReply{abi::kVmcallSuccess, *val, {}, {}, {}, {}});
}

SubfnResult TdxModule::subfn_wrmsr(const VmcallRequest& req) {
  const uint64_t msr = req.regs.r12, val = req.regs.r13;
  const bool writable = msr == kMsrPat || msr == kMsrTscDeadline || msr == kMsrMtrrDefType;
  if (!writable)
    return refuse(abi::kVmcallInvalidOperand,
                  fmt::format("WRMSR {:#x} (R12) value {:#x}: {}", msr, val,
                              msr == kMsrApicBase ? "APIC_BASE is read-only for TDs"
                                                  : "MSR not modelled or read-only (KVM: kvm_set_msr failed)"));
  msr_writes_[{req.vcpu, msr}] = val;
  return ok();
}

SubfnResult TdxModule::subfn_request_mmio(const VmcallRequest& req) {
  const ucall::VmcallMmioDecision d = ucall::check_vmcall_mmio(req.regs, image_.shared_bit, req.vcpu);
  if (d.kind == ucall::VmcallMmioDecision::Kind::kRejected) return refuse(d.r10, d.reason);
  if (d.mmio.is_write) {
    Event e = ucall::decode_mmio(mem_, d.mmio, image_.ucall_mmio_gpa, image_.shared_bit);
    const bool stop = is_terminal(e);
    return with_event(std::move(e), status(abi::kVmcallSuccess), stop);
  }
  MmioEvent m = d.mmio;
  m.data = answer_mmio_read(cfg_.hooks.mmio_read, req.vcpu, m.gpa, m.len);
  return with_event(m, VmcallReply{abi::kVmcallSuccess, m.data, {}, {}, {}, {}});
}

SubfnResult TdxModule::subfn_get_td_vmcall_info(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (v.r12 == abi::kGetTdVmCallInfoLeaf0) return ok(VmcallReply{abi::kVmcallSuccess, 0, 0, 0, 0, {}});
  if (v.r12 == abi::kGetTdVmCallInfoLeaf1)
    // KVM_EXIT_TDX to userspace; this VMM reports no optional sub-functions.
    return with_event(VmcallExitEvent{req.vcpu, req.rip, v.r11, 0, 0, v.r12, abi::kVmcallSuccess},
                      VmcallReply{abi::kVmcallSuccess, 0, 0, 0, 0, {}});
  return refuse(abi::kVmcallInvalidOperand, fmt::format("GetTdVmCallInfo leaf R12 = {:#x} (must be 0 or 1)", v.r12));
}

SubfnResult TdxModule::subfn_map_gpa(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (!cfg_.map_gpa_enabled)
    return refuse(abi::kVmcallSubfnUnsupported, "MapGPA: userspace did not enable KVM_HC_MAP_GPA_RANGE exits");
  const uint64_t gpa = v.r12, size = v.r13, end = gpa + size;
  const uint64_t limit = image_.gpaw >= 64 ? ~0ull : (1ull << image_.gpaw);
  const bool priv_start = !(gpa & image_.shared_bit), priv_last = !((end - 1) & image_.shared_bit);
  // tdx_map_gpa: range checks first (INVALID_OPERAND), then alignment; R11 = GPA.
  if (size == 0 || end <= gpa || gpa >= limit || end - 1 >= limit || priv_start != priv_last)
    return refuse(VmcallReply{abi::kVmcallInvalidOperand, gpa, {}, {}, {}, {}},
                  fmt::format("MapGPA range R12 = {:#x} size R13 = {:#x}: empty, wrapping, beyond GPAW "
                              "{} or crossing the shared bit",
                              gpa, size, image_.gpaw));
  if ((gpa | size) & 0xfff)
    return refuse(VmcallReply{abi::kVmcallAlignError, gpa, {}, {}, {}, {}},
                  fmt::format("MapGPA GPA R12 = {:#x} or size R13 = {:#x} not 4 KiB aligned", gpa, size));
  // KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE) per 2 MiB chunk; with no interrupts
  // pending KVM never returns RETRY, so the whole range completes in one go.
  return with_event(VmcallExitEvent{req.vcpu, req.rip, v.r11, gpa, size, 0, abi::kVmcallSuccess});
}

SubfnResult TdxModule::subfn_get_quote(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (!(v.r12 & image_.shared_bit))
    return refuse(abi::kVmcallInvalidOperand, fmt::format("GetQuote buffer R12 = {:#x} is private (shared bit {:#x} clear)",
                                                          v.r12, image_.shared_bit));
  return with_event(VmcallExitEvent{req.vcpu, req.rip, v.r11, v.r12, v.r13, 0, abi::kVmcallSuccess});
}

SubfnResult TdxModule::subfn_report_fatal_error(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  const uint64_t code = v.r12;
  std::string detail = fmt::format("TDG.VP.VMCALL<ReportFatalError> error code {:#x}", code);
  if (code >> 63) detail += fmt::format(", extra info at GPA {:#x}", v.r13);
  const std::string msg = fatal_message(v);
  if (!msg.empty()) detail += fmt::format(": \"{}\"", msg);
  // KVM_EXIT_SYSTEM_EVENT (TDX_FATAL): the vCPU stops; a host may resume it.
  return with_event(FaultEvent{req.vcpu, req.rip, -1, code, false, std::move(detail)}, status(abi::kVmcallSuccess), true);
}

SubfnResult TdxModule::subfn_setup_event_notify_interrupt(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (v.r12 < 32 || v.r12 > 255)
    return refuse(abi::kVmcallInvalidOperand,
                  fmt::format("SetupEventNotifyInterrupt vector R12 = {} (must be 32..255)", v.r12));
  return with_event(VmcallExitEvent{req.vcpu, req.rip, v.r11, 0, 0, v.r12, abi::kVmcallSuccess});
}

const std::vector<TdxModule::Subfn>& TdxModule::subfns() {
  static const std::vector<Subfn> table = {
      {abi::kVmcallCpuid, "Instruction.CPUID", &TdxModule::subfn_cpuid},
      {abi::kVmcallHlt, "Instruction.HLT", &TdxModule::subfn_hlt},
      {abi::kVmcallIo, "Instruction.IO", &TdxModule::subfn_io},
      {abi::kVmcallRdmsr, "Instruction.RDMSR", &TdxModule::subfn_rdmsr},
      {abi::kVmcallWrmsr, "Instruction.WRMSR", &TdxModule::subfn_wrmsr},
      {abi::kVmcallRequestMmio, "#VE.RequestMMIO", &TdxModule::subfn_request_mmio},
      {abi::kVmcallGetTdVmCallInfo, "GetTdVmCallInfo", &TdxModule::subfn_get_td_vmcall_info},
      {abi::kVmcallMapGpa, "MapGPA", &TdxModule::subfn_map_gpa},
      {abi::kVmcallGetQuote, "GetQuote", &TdxModule::subfn_get_quote},
      {abi::kVmcallReportFatalError, "ReportFatalError", &TdxModule::subfn_report_fatal_error},
      {abi::kVmcallSetupEventNotifyInterrupt, "SetupEventNotifyInterrupt",
       &TdxModule::subfn_setup_event_notify_interrupt},
  };
  return table;
}

const TdxModule::Subfn* TdxModule::find_subfn(uint64_t id) {
  for (const Subfn& s : subfns())
    if (s.id == id) return &s;
  return nullptr;
}

const char* TdxModule::subfn_name(uint64_t id) {
  const Subfn* s = find_subfn(id);
  return s ? s->name : "unknown sub-function";
}

SubfnResult TdxModule::kvm_subfn(const VmcallRequest& req) {
  if (const Subfn* s = find_subfn(req.regs.r11)) return (this->*(s->handle))(req);
  return refuse(abi::kVmcallSubfnUnsupported,
                fmt::format("TDG.VP.VMCALL sub-function {:#x} (R11) not supported", req.regs.r11));
}

}  // namespace tdsim::tdx
