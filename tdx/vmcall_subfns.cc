// KVM's side of the standard TDG.VP.VMCALL sub-functions (Linux arch/x86/kvm/vmx/tdx.c,
// docs/tdx-abi.md, "TDG.VP.VMCALL calling convention"): the operand checks KVM makes, the
// sub-functions it completes in the kernel (CPUID, HLT, RDMSR, WRMSR, GetTdVmCallInfo
// leaf 0), and for the rest the userspace exit it builds. What userspace answers and the
// event the host sees come from the VMM layer (tdx/vmm.cc), the same code the kvm-tdx
// backend feeds its KVM exits to. One handler per sub-function, listed in the table at
// the end: a new sub-function is its ABI number plus one entry here (and, if it becomes a
// userspace exit, its exit kind and answer in tdx/vmm.{h,cc}).
#include <fmt/format.h>

#include "tdsim/abi/tdx.h"
#include "tdx_module.h"
#include "x2apic.h"
#include "vmm.h"

namespace tdsim::tdx {

namespace {

constexpr uint64_t kMsrApicBase = 0x1b;
constexpr uint64_t kMsrMiscEnable = 0x1a0;
constexpr uint64_t kMsrPat = 0x277;
constexpr uint64_t kMsrTscDeadline = 0x6e0;
constexpr uint64_t kMsrMtrrDefType = 0x2ff;
constexpr uint64_t kMsrPowerCtl = 0x1fc;
constexpr uint64_t kMsrX2apicIcr = 0x830;
// KVM's x2APIC ICR reserved bits (31:20, 17:16, 13): a write setting one fails.
constexpr uint64_t kX2apicIcrReserved = 0xfff00000ull | 0x30000ull | (1u << 13);
constexpr uint64_t kIcrDeliveryPending = 1u << 12;
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

// The VMM's completion as KVM hands it back to the guest: `reply` is what KVM writes into
// the guest's registers from it.
SubfnResult from_vmm(VmmCompletion c, VmcallReply reply) {
  return SubfnResult{reply, std::move(c.event), c.stop, {}};
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
  // No in-kernel port devices: KVM_EXIT_IO with one access; OUT carries R15's low bytes.
  PortIoExit x{static_cast<uint16_t>(port), static_cast<uint32_t>(size), dir == 1, 1, {}};
  if (x.is_out)
    for (uint64_t b = 0; b < size; ++b) x.data.push_back(static_cast<uint8_t>(v.r15 >> (8 * b)));
  VmmCompletion c = to_userspace(req, std::move(x));
  if (dir == 1 || c.io_data.size() != size) return from_vmm(std::move(c), status(abi::kVmcallSuccess));
  // IN: KVM puts the `size` bytes userspace left in the data area into R11.
  uint64_t val = 0;
  for (uint64_t b = 0; b < size; ++b) val |= uint64_t{c.io_data[b]} << (8 * b);
  return from_vmm(std::move(c), VmcallReply{abi::kVmcallSuccess, val, {}, {}, {}, {}});
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
    // POWER_CTL: KVM keeps what the guest wrote, 0 at reset. x2APIC ICR: the last command
    // (destination in bits 63:32), 0 at reset.
    case kMsrTscDeadline: case kMsrMtrrDefType: case kMsrPowerCtl: case kMsrX2apicIcr: val = 0; break;
    default:
      // KVM's in-kernel local APIC (tdx/x2apic.h).
      if (is_x2apic_msr(msr)) val = x2apic_reset_value(msr, req.vcpu);
      break;
  }
  if (!val)
    return refuse(abi::kVmcallInvalidOperand,
                  fmt::format("RDMSR {:#x} (R12): {}", msr,
                              is_x2apic_msr(msr) ? "not a readable x2APIC register (KVM: kvm_get_msr failed)"
                                                 : "MSR not modelled (KVM: kvm_get_msr failed)"));
  return ok(VmcallReply{abi::kVmcallSuccess, *val, {}, {}, {}, {}});
}

SubfnResult TdxModule::subfn_wrmsr(const VmcallRequest& req) {
  const uint64_t msr = req.regs.r12;
  uint64_t val = req.regs.r13;
  if (msr == kMsrX2apicIcr) {
    // KVM's kvm_x2apic_icr_write: reserved bits refused; the IPI is sent at once, so the
    // delivery-status bit reads 0. No IPI reaches a vCPU here (interrupts not modelled).
    if (val & kX2apicIcrReserved)
      return refuse(abi::kVmcallInvalidOperand,
                    fmt::format("WRMSR x2APIC ICR (R12 {:#x}) value {:#x} sets reserved bits {:#x}", msr, val,
                                val & kX2apicIcrReserved));
    val &= ~kIcrDeliveryPending;
  }
  const bool writable = msr == kMsrPat || msr == kMsrTscDeadline || msr == kMsrMtrrDefType || msr == kMsrPowerCtl ||
                        msr == kMsrX2apicIcr || (is_x2apic_msr(msr) && x2apic_writable(msr));
  if (writable && is_x2apic_msr(msr) && !x2apic_keeps_writes(msr)) return ok();  // EOI, SELF IPI
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
  // No in-kernel MMIO devices: KVM_EXIT_MMIO with the shared bit stripped; a read's
  // answer goes to R11.
  VmmCompletion c = to_userspace(req, MmioExit{d.mmio.gpa, d.mmio.len, d.mmio.is_write, d.mmio.data});
  if (d.mmio.is_write) return from_vmm(std::move(c), status(abi::kVmcallSuccess));
  const uint64_t data = c.mmio_data;
  return from_vmm(std::move(c), VmcallReply{abi::kVmcallSuccess, data, {}, {}, {}, {}});
}

SubfnResult TdxModule::subfn_get_td_vmcall_info(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (v.r12 == abi::kGetTdVmCallInfoLeaf0) return ok(VmcallReply{abi::kVmcallSuccess, 0, 0, 0, 0, {}});
  if (v.r12 == abi::kGetTdVmCallInfoLeaf1) {
    // KVM_EXIT_TDX; userspace names the optional sub-functions it implements in R11..R14.
    VmmCompletion c = to_userspace(req, GetTdVmCallInfoExit{v.r12});
    const VmcallReply r{c.ret, c.info[0], c.info[1], c.info[2], c.info[3], {}};
    return from_vmm(std::move(c), r);
  }
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
  // KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE), shared bit stripped, the target state in
  // the attributes. Real KVM exits once per 2 MiB chunk and may stop with RETRY when an
  // interrupt is pending; with no interrupt source here the whole range is one exit.
  VmmCompletion c = to_userspace(
      req, MapGpaExit{gpa & ~image_.shared_bit, size / 4096, priv_start ? kMapGpaEncrypted : kMapGpaDecrypted});
  if (c.ret != 0) {
    // KVM turns any non-zero hypercall.ret into INVALID_OPERAND with R11 = the failed GPA.
    SubfnResult r = from_vmm(std::move(c), VmcallReply{abi::kVmcallInvalidOperand, gpa, {}, {}, {}, {}});
    r.why = fmt::format("MapGPA {:#x} size {:#x}: the VMM refused the conversion", gpa, size);
    return r;
  }
  return from_vmm(std::move(c), status(abi::kVmcallSuccess));
}

SubfnResult TdxModule::subfn_get_quote(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (!(v.r12 & image_.shared_bit))
    return refuse(abi::kVmcallInvalidOperand, fmt::format("GetQuote buffer R12 = {:#x} is private (shared bit {:#x} clear)",
                                                          v.r12, image_.shared_bit));
  // KVM_EXIT_TDX with the shared bit stripped; userspace's `ret` becomes R10.
  VmmCompletion c = to_userspace(req, GetQuoteExit{v.r12 & ~image_.shared_bit, v.r13});
  const uint64_t ret = c.ret;
  return from_vmm(std::move(c), status(ret));
}

SubfnResult TdxModule::subfn_report_fatal_error(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  // No checks: KVM_EXIT_SYSTEM_EVENT(TDX_FATAL) with the registers; the vCPU stops.
  return from_vmm(to_userspace(req, FatalErrorExit{v.r12, v.r13, {v.r14, v.r15, v.rbx, v.rdi, v.rsi, v.r8, v.r9, v.rdx}}),
                  status(abi::kVmcallSuccess));
}

SubfnResult TdxModule::subfn_setup_event_notify_interrupt(const VmcallRequest& req) {
  const ucall::TdcallRegs& v = req.regs;
  if (v.r12 < 32 || v.r12 > 255)
    return refuse(abi::kVmcallInvalidOperand,
                  fmt::format("SetupEventNotifyInterrupt vector R12 = {} (must be 32..255)", v.r12));
  // KVM_EXIT_TDX; userspace's `ret` becomes R10.
  VmmCompletion c = to_userspace(req, SetupEventNotifyExit{v.r12});
  const uint64_t ret = c.ret;
  return from_vmm(std::move(c), status(ret));
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

VmmCompletion TdxModule::to_userspace(const VmcallRequest& req, ExitKind exit) const {
  UserspaceExit x{req.vcpu, req.rip, std::move(exit)};
  if (!userspace_) return Vmm(image_, mem_, cfg_).handle(x);
  if (std::optional<VmmCompletion> c = userspace_(x)) return std::move(*c);
  // Out to the program; the handler's caller finishes this call once it has answered.
  deferred_ = true;
  return VmmCompletion{};
}

SubfnResult TdxModule::kvm_subfn(const VmcallRequest& req) {
  if (const Subfn* s = find_subfn(req.regs.r11)) return (this->*(s->handle))(req);
  return refuse(abi::kVmcallSubfnUnsupported,
                fmt::format("TDG.VP.VMCALL sub-function {:#x} (R11) not supported", req.regs.r11));
}

}  // namespace tdsim::tdx
