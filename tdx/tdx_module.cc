// TDCALL dispatch and the TDG.VP.VMCALL frame: the TDX module's own checks (expose
// mask), the R10 != 0 KVM-hypercall path, host-hook overrides, and copying the VMM's
// outputs back into the exposed registers only. Leaves: tdx_leaves.cc; KVM's
// sub-function handling: vmcall_subfns.cc.
#include "tdx_module.h"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

#include "tdsim/abi/tdx.h"

namespace tdsim::tdx {

namespace {

using ucall::TdcallRegs;

bool exposed(uint64_t rcx, int gpr) { return (rcx >> gpr) & 1; }

// The TDX module hands the VMM's R10..R15 back to the guest only for exposed registers.
void apply_vmcall_reply(TdcallRegs& regs, const VmcallReply& r) {
  const uint64_t m = regs.rcx;
  if (exposed(m, 10)) regs.r10 = r.r10;
  const std::optional<uint64_t> outs[] = {r.r11, r.r12, r.r13, r.r14, r.r15};
  uint64_t* dst[] = {&regs.r11, &regs.r12, &regs.r13, &regs.r14, &regs.r15};
  for (int i = 0; i < 5; ++i)
    if (outs[i] && exposed(m, 11 + i)) *dst[i] = *outs[i];
}

}  // namespace

TdxModule::TdxModule(const TdImage& image, GuestMemory& mem, TdxConfig config)
    : image_(image),
      mem_(mem),
      cfg_(std::move(config)),
      cpuid_(cfg_.cpuid ? *cfg_.cpuid : CpuidModel::default_for(image.gpaw)),
      td_cpuid_(td_cpuid_values(sapphire_rapids_native(),
                                TdCpuidConfig{cfg_.attributes, cfg_.xfam, image.gpaw, cfg_.cpuid_config})),
      build_(mem),
      acceptance_(image),
      progress_(image.tdvf) {}

void TdxModule::reset() {
  rtmr_ = {};
  acceptance_.reset();
  progress_.reset();
  size_mismatches_ = 0;
  msr_writes_.clear();
  ve_info_.clear();
  debugctl_.clear();
}

void TdxModule::build_td() { build_td(launch_page_order(image_)); }

void TdxModule::build_td(const std::vector<PageAdd>& pages) {
  const TdParams params{cfg_.attributes, cfg_.xfam, image_.gpaw, max_vcpus()};
  perform_td_build(build_, params, image_.nr_vcpus, pages);
}

const measure::Mrtd& TdxModule::mrtd() const {
  if (!build_.mrtd())
    throw std::logic_error("TDX module: MRTD asked for before the TD was built and finalized (build_td())");
  return *build_.mrtd();
}

InstructionCpuid TdxModule::instruction_cpuid(uint32_t leaf, uint32_t subleaf, const CpuidVcpuState& s) const {
  // The module answers from the values TDH.MNG.INIT computed: a hostile host cannot change
  // them afterwards (only the VMCALL<CPUID> answers are the VMM's).
  CpuidExecution e = execute_td_cpuid(td_cpuid_, leaf, subleaf, s);
  InstructionCpuid out;
  out.value = e.value;
  if (!e.value) {
    out.ve = cpuid_instruction_ve();
    out.why = std::move(e.ve_why);
  } else if (leaf == 0x21u && progress_.first(TdxProgress::Step::kTdxDetected)) {
    out.milestone = "TDX detected: CPUID leaf 0x21 read (the TDX module's leaf: \"IntelTDX    \")";
  }
  return out;
}

TdcallResult TdxModule::tdcall(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  switch (in.rax) {
    case abi::kTdgVpVmcall: return vmcall(vcpu, rip, in);
    case abi::kTdgVpInfo: return vp_info(vcpu, rip, in);
    case abi::kTdgMrRtmrExtend: return rtmr_extend(vcpu, rip, in);
    case abi::kTdgVpVeinfoGet: return veinfo_get(vcpu, rip, in);
    case abi::kTdgMrReport: return mr_report(vcpu, rip, in);
    case abi::kTdgMemPageAccept: return page_accept(vcpu, rip, in);
    default: break;
  }
  TdcallResult out;
  out.regs = in;
  out.regs.rax = abi::kTdxOperandInvalid | abi::kTdxOperandIdRax;
  out.event = TdcallRejectedEvent{
      vcpu, rip, in.rax, 0, out.regs.rax,
      fmt::format("TDCALL leaf {:#x} (RAX) is not emulated by the simulator's TDX module "
                  "(VMCALL 0, VP.INFO 1, RTMR.EXTEND 2, VEINFO.GET 3, MR.REPORT 4, "
                  "PAGE.ACCEPT 6 are)",
                  in.rax)};
  return out;
}

TdcallResult TdxModule::vmcall(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  TdcallResult out;
  out.regs = in;

  // The module checks the expose mask before the VMM ever runs: no exit, status in RAX,
  // every other register (R10 included) untouched.
  const uint64_t bad = in.rcx & (abi::kVmcallForbiddenExposeBits | abi::kVmcallReservedExposeBits);
  if (bad) {
    out.regs.rax = abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx;
    out.event = TdcallRejectedEvent{
        vcpu, rip, 0, in.r11, out.regs.rax,
        fmt::format("TDG.VP.VMCALL expose mask RCX {:#x} sets forbidden or reserved bits {:#x} "
                    "(RAX, RCX, RSP, RBP with NO_RBP_MOD, or 63:32)",
                    in.rcx, bad)};
    return out;
  }
  out.regs.rax = abi::kTdxSuccess;

  // From here on this is KVM's view: registers the guest did not expose read as 0.
  const VmcallRequest req{vcpu, rip, ucall::vmm_view(in)};
  const TdcallRegs& v = req.regs;
  if (v.r10 != abi::kVmcallStandard) {
    // KVM hypercall ABI through TDX (tdx_emulate_vmcall): nr = R10, args R11..R14;
    // result in R10.
    const uint64_t result = v.r10 == kKvmHcVapicPollIrq ? 0 : kKvmEnosys;
    apply_vmcall_reply(out.regs, VmcallReply{result, {}, {}, {}, {}, {}});
    if (result != 0)
      out.event = TdcallRejectedEvent{
          vcpu, rip, 0, v.r11, kKvmEnosys,
          fmt::format("KVM hypercall {} (R10) unknown: -KVM_ENOSYS", v.r10)};
    return out;
  }

  SubfnResult r;
  std::optional<VmcallReply> hooked;
  if (cfg_.hooks.vmcall) hooked = cfg_.hooks.vmcall(req);
  if (hooked) {
    r.reply = *hooked;
    r.why = fmt::format("host hook answered TDG.VP.VMCALL sub-function {:#x} with status {:#x}", v.r11,
                        r.reply.r10);
  } else {
    r = kvm_subfn(req);
    if (std::exchange(deferred_, false)) {
      // The program has not answered yet: nothing of this call happened.
      TdcallResult d;
      d.regs = in;
      d.deferred = true;
      return d;
    }
  }
  out.event = std::move(r.event);
  out.stop = r.stop;
  if (out.stop) return out;  // the vCPU stops: registers are those of the call (resume: after it)
  apply_vmcall_reply(out.regs, r.reply);
  if (r.reply.r10 != abi::kVmcallSuccess && !out.event)
    out.event = TdcallRejectedEvent{vcpu, rip, 0, v.r11, r.reply.r10, r.why};
  return out;
}

}  // namespace tdsim::tdx
