// The TDCALL leaves the TDX module answers itself (no VMM involved): TDG.VP.INFO,
// TDG.MR.REPORT, TDG.MR.RTMR.EXTEND, TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT.
// Statuses with bit 63 set also produce a TdcallRejectedEvent; warnings do not.
#include <fmt/format.h>

#include <array>
#include <cstring>

#include "tdsim/abi/tdx.h"
#include "td_msr_virtual.h"
#include "tdx_module.h"

namespace tdsim::tdx {

namespace {

using ucall::TdcallRegs;

TdcallResult status_only(const TdcallRegs& in, uint32_t vcpu, uint64_t rip, uint64_t status,
                         std::string reason) {
  TdcallResult out;
  out.regs = in;
  out.regs.rax = status;
  if (status >> 63) out.event = TdcallRejectedEvent{vcpu, rip, in.rax, 0, status, std::move(reason)};
  return out;
}

const char* leaf_name(uint64_t leaf) {
  switch (leaf) {
    case abi::kTdgMrReport: return "TDG.MR.REPORT";
    case abi::kTdgMrRtmrExtend: return "TDG.MR.RTMR.EXTEND";
    case abi::kTdgMemPageAccept: return "TDG.MEM.PAGE.ACCEPT";
    default: return "TDCALL";
  }
}

}  // namespace

std::optional<uint64_t> TdxModule::check_private_gpa(uint64_t gpa, uint64_t size, uint64_t align,
                                                     uint64_t operand_id, std::string& why) const {
  const uint64_t invalid = abi::kTdxOperandInvalid | operand_id;
  if (gpa % align) {
    why = fmt::format("GPA {:#x} is not {}-byte aligned", gpa, align);
    return invalid;
  }
  if (gpa & image_.shared_bit) {
    why = fmt::format("GPA {:#x} has the shared bit {:#x} set; a private GPA is required", gpa,
                      image_.shared_bit);
    return invalid;
  }
  if (image_.gpaw < 64 && (gpa + size - 1) >> image_.gpaw) {
    why = fmt::format("GPA {:#x} (+{:#x}) exceeds GPAW {}", gpa, size, image_.gpaw);
    return invalid;
  }
  const Region* r = image_.region_at(gpa);
  if (!mem_.host_ptr(gpa, size) || !r || r->shared) {
    why = fmt::format("GPA {:#x} (+{:#x}) is not private TD memory{}", gpa, size,
                      r && r->shared ? fmt::format(" (region '{}' is shared)", r->name) : "");
    return abi::kTdxOperandAddrRangeError | operand_id;
  }
  return std::nullopt;
}

TdcallResult TdxModule::vp_info(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  TdcallResult out;
  out.regs = in;
  const uint64_t max_vcpus = this->max_vcpus();
  out.regs.rax = abi::kTdxSuccess;
  out.regs.rcx = image_.gpaw & 0x3f;
  out.regs.rdx = cfg_.attributes;
  out.regs.r8 = uint64_t{image_.nr_vcpus} | (max_vcpus << 32);
  out.regs.r9 = vcpu;
  out.regs.r10 = 0;  // TDX 1.0: no TDG.SYS.RD
  out.regs.r11 = 0;
  if (progress_.first(TdxProgress::Step::kVpInfo))
    out.event = MilestoneEvent{vcpu, rip,
                               fmt::format("TDG.VP.INFO: GPAW {}, {} vCPU(s), attributes {:#x}", out.regs.rcx,
                                           image_.nr_vcpus, out.regs.rdx)};
  return out;
}

TdcallResult TdxModule::mr_report(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  std::string why;
  if (auto s = check_private_gpa(in.rcx, abi::kTdReportSize, abi::kTdReportAlign,
                                 abi::kTdxOperandIdRcx, why))
    return status_only(in, vcpu, rip, *s, fmt::format("TDG.MR.REPORT TDREPORT (RCX): {}", why));
  if (auto s = check_private_gpa(in.rdx, abi::kReportDataSize, abi::kReportDataAlign,
                                 abi::kTdxOperandIdRdx, why))
    return status_only(in, vcpu, rip, *s, fmt::format("TDG.MR.REPORT REPORTDATA (RDX): {}", why));
  if (in.r8 != 0)
    return status_only(in, vcpu, rip, abi::kTdxOperandInvalid | abi::kTdxOperandIdR8,
                       fmt::format("TDG.MR.REPORT report subtype R8 = {:#x} (must be 0)", in.r8));
  TdReportInputs ri;
  ri.attributes = cfg_.attributes;
  ri.xfam = cfg_.xfam;
  ri.mrtd = mrtd().digest;
  ri.mrconfigid = cfg_.mrconfigid;
  ri.mrowner = cfg_.mrowner;
  ri.mrownerconfig = cfg_.mrownerconfig;
  ri.rtmr = rtmr_;
  mem_.read(in.rdx, ri.report_data.data(), ri.report_data.size());
  const TdReport rep = build_tdreport(ri);
  mem_.write(in.rcx, rep.data(), rep.size());
  if (host_write_) host_write_(in.rcx, rep.size());
  return status_only(in, vcpu, rip, abi::kTdxSuccess, {});
}

TdcallResult TdxModule::rtmr_extend(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  std::string why;
  if (auto s = check_private_gpa(in.rcx, abi::kRtmrSize, abi::kRtmrExtendAlign,
                                 abi::kTdxOperandIdRcx, why))
    return status_only(in, vcpu, rip, *s, fmt::format("TDG.MR.RTMR.EXTEND data (RCX): {}", why));
  if (in.rdx >= abi::kNumRtmrs)
    return status_only(in, vcpu, rip, abi::kTdxOperandInvalid | abi::kTdxOperandIdRdx,
                       fmt::format("TDG.MR.RTMR.EXTEND index RDX = {} (must be 0..3)", in.rdx));
  Digest48 data{};
  mem_.read(in.rcx, data.data(), data.size());
  rtmr_[in.rdx] = tdx::rtmr_extend(rtmr_[in.rdx], data);
  progress_.rtmr_extended(vcpu, rip, static_cast<uint32_t>(in.rdx), data);
  return status_only(in, vcpu, rip, abi::kTdxSuccess, {});
}

TdcallResult TdxModule::veinfo_get(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  const auto it = ve_info_.find(vcpu);
  if (it == ve_info_.end())
    return status_only(in, vcpu, rip, abi::kTdxNoVeInfo, "TDG.VP.VEINFO.GET: no #VE information is pending");
  // Reading the information makes room for the next #VE.
  const VeInfo v = it->second;
  ve_info_.erase(it);
  TdcallResult out = status_only(in, vcpu, rip, abi::kTdxSuccess, {});
  out.regs.rcx = v.exit_reason;
  out.regs.rdx = v.qualification;
  out.regs.r8 = v.gla;
  out.regs.r9 = v.gpa;
  out.regs.r10 = static_cast<uint64_t>(v.insn_info) << 32 | v.insn_length;
  return out;
}

TdxModule::VeDelivery TdxModule::raise_ve(uint32_t vcpu, const VeInfo& info) {
  if (ve_info_.count(vcpu)) return VeDelivery::kDoubleFault;
  ve_info_[vcpu] = info;
  return VeDelivery::kVe;
}

VeInfo io_instruction_ve(bool in, uint16_t port, uint32_t size, bool immediate, uint32_t insn_length) {
  VeInfo v;
  v.exit_reason = abi::kExitReasonIoInstruction;
  v.qualification = (static_cast<uint64_t>(size - 1) & 7) | (in ? abi::kIoQualIn : 0) |
                    (immediate ? abi::kIoQualImmediate : 0) | static_cast<uint64_t>(port) << 16;
  v.insn_length = insn_length;
  return v;
}

MsrDecision TdxModule::msr_instruction(uint32_t vcpu, uint32_t msr, bool write, uint64_t value, uint64_t efer) {
  MsrDecision d = msr_access(msr, write);
  if (d.access != MsrAccess::kModule) return d;
  const MsrTdConfig td{cfg_.attributes, cfg_.xfam, td_cpuid_};
  MsrDecision h = virtual_msr_access(msr, write, value, td, MsrVcpuState{efer, &debugctl_[vcpu]});
  if (h.access == MsrAccess::kVe || h.access == MsrAccess::kGp) h.why = d.why + ": " + h.why;
  return h;
}

VeInfo msr_instruction_ve(bool write) {
  VeInfo v;
  v.exit_reason = write ? abi::kExitReasonWrmsr : abi::kExitReasonRdmsr;
  v.insn_length = 2;  // 0F 32 / 0F 30
  return v;
}

VeInfo hlt_instruction_ve() {
  VeInfo v;
  v.exit_reason = abi::kExitReasonHlt;
  v.insn_length = 1;  // F4
  return v;
}

FaultEvent hlt_without_ve_gate(uint32_t vcpu, uint64_t hlt_rip) {
  return FaultEvent{vcpu, hlt_rip, static_cast<int>(abi::kVeVector), 0, true,
                    fmt::format("HLT at {:#x} raises #VE in a TD; the IDT has no vector-20 gate; on a TD this is a "
                                "shutdown",
                                hlt_rip)};
}

VeInfo shared_gpa_ve(bool write, uint64_t gla, uint64_t shared_gpa) {
  // A shared-EPT entry KVM left non-present without "suppress #VE" turns the violation
  // into a #VE in the CPU itself, which fills the information from the would-be exit:
  // qualification, GLA and the full GPA; the instruction length is not among them.
  VeInfo v;
  v.exit_reason = abi::kExitReasonEptViolation;
  v.qualification = (write ? abi::kEptQualWrite : abi::kEptQualRead) | abi::kEptQualGlaValid |
                    abi::kEptQualFinalTranslation;
  v.gla = gla;
  v.gpa = shared_gpa;
  return v;
}

VeInfo instruction_ve(const TdInstruction& insn) {
  VeInfo v;
  v.exit_reason = insn.exit_reason;
  v.insn_length = insn.length;
  return v;
}

VeInfo pending_page_ve(GuestAccess access, uint64_t gla, uint64_t gpa) {
  VeInfo v;
  v.exit_reason = abi::kExitReasonEptViolation;
  const uint64_t kind = access == GuestAccess::kWrite   ? abi::kEptQualWrite
                        : access == GuestAccess::kFetch ? abi::kEptQualFetch
                                                        : abi::kEptQualRead;
  v.qualification = kind | abi::kEptQualGlaValid | abi::kEptQualFinalTranslation;
  v.gla = gla;
  v.gpa = gpa;
  return v;
}

std::optional<PendingAccess> TdxModule::pending_access(GuestAccess access, uint64_t gla, uint64_t gpa) const {
  if (!acceptance_.pending(gpa)) return std::nullopt;
  const char* what = access == GuestAccess::kWrite ? "write to" : access == GuestAccess::kFetch ? "fetch from" : "read of";
  PendingAccess p;
  p.ve = pending_page_ve(access, gla, gpa);
  if (cfg_.attributes & kAttrSeptVeDisable) {
    p.vm_dead = true;
    p.why = fmt::format("{} private GPA {:#x} (GLA {:#x}) before TDG.MEM.PAGE.ACCEPT: with ATTRIBUTES.SEPT_VE_DISABLE "
                        "the TD exits to KVM with a pending-page EPT violation, and KVM marks the VM dead "
                        "(KVM_RUN fails with EIO)",
                        what, gpa, gla);
  } else {
    p.why = fmt::format("{} private GPA {:#x} (GLA {:#x}) before TDG.MEM.PAGE.ACCEPT: the TDX module injects an "
                        "EPT-violation #VE (ATTRIBUTES.SEPT_VE_DISABLE is clear)",
                        what, gpa, gla);
  }
  return p;
}

VeInfo cpuid_instruction_ve() {
  VeInfo v;
  v.exit_reason = abi::kExitReasonCpuid;
  v.insn_length = 2;  // 0F A2
  return v;
}

TdcallResult TdxModule::page_accept(uint32_t vcpu, uint64_t rip, const TdcallRegs& in) {
  const uint64_t level = in.rcx & abi::kAcceptLevelMask;
  const uint64_t invalid = abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx;
  if (in.rcx & 0xff8)
    return status_only(in, vcpu, rip, invalid,
                       fmt::format("{}: RCX {:#x} sets reserved bits 11:3", leaf_name(in.rax), in.rcx));
  if (level > 2)
    return status_only(in, vcpu, rip, invalid,
                       fmt::format("{}: level {} in RCX[2:0] (0 4K, 1 2M, 2 1G)", leaf_name(in.rax), level));
  const uint64_t size = 4096ull << (9 * level);
  const uint64_t gpa = in.rcx & ~uint64_t{0xfff};
  std::string why;
  // Alignment to the level size; memory behind the first 4 KiB (the mapping decides the rest).
  if (auto s = check_private_gpa(gpa, 4096, size, abi::kTdxOperandIdRcx, why))
    return status_only(in, vcpu, rip, *s, fmt::format("{} (RCX): {}", leaf_name(in.rax), why));
  switch (acceptance_.accept(gpa, static_cast<uint32_t>(level))) {
    case PageAcceptance::Result::kSizeMismatch: {
      TdcallResult out = status_only(
          in, vcpu, rip, abi::kTdxPageSizeMismatch,
          fmt::format("{}: GPA {:#x} is mapped with 4 KiB pages, level {} asked (later refusals of large "
                      "pages are counted, not reported)",
                      leaf_name(in.rax), gpa, level));
      if (size_mismatches_++) out.event.reset();
      return out;
    }
    case PageAcceptance::Result::kAlreadyAccepted:
      return status_only(in, vcpu, rip, abi::kTdxPageAlreadyAccepted, {});
    case PageAcceptance::Result::kAccepted: break;
  }
  // The module clears a page it maps for the TD: the guest never sees what was there
  // (written before the accept, which a real TD cannot do). Pages still zero are left
  // alone, so an engine's translated code is dropped only where something changed.
  static const std::array<uint8_t, 4096> zeros{};
  const uint8_t* host = mem_.host_ptr(gpa, zeros.size());
  if (host && std::memcmp(host, zeros.data(), zeros.size()) != 0) {
    mem_.write(gpa, zeros.data(), zeros.size());
    if (host_write_) host_write_(gpa, zeros.size());
  }
  TdcallResult out = status_only(in, vcpu, rip, abi::kTdxSuccess, {});
  if (progress_.first(TdxProgress::Step::kFirstAccept))
    out.event = MilestoneEvent{vcpu, rip, fmt::format("first page accepted: {} of GPA {:#x} (4 KiB)",
                                                      leaf_name(in.rax), gpa)};
  return out;
}

std::vector<Event> TdxModule::end_of_run() const {
  std::vector<Event> out = progress_.report(rtmr_);
  if (image_.tdvf && (acceptance_.accepted_pages() || size_mismatches_))
    out.push_back(MilestoneEvent{0, 0,
                                 fmt::format("{} pages accepted ({} MiB); {} accepts of 2 MiB/1 GiB pages refused "
                                             "with TDX_PAGE_SIZE_MISMATCH",
                                             acceptance_.accepted_pages(), acceptance_.accepted_pages() / 256,
                                             size_mismatches_)});
  return out;
}

}  // namespace tdsim::tdx
