// The simulator's stand-in for the TDX module and the KVM code behind TDG.VP.VMCALL:
// given the registers of one trapped TDCALL, decides the guest-visible result and the
// event it produces. Engine-free (no Unicorn): the vCPU reads and writes the registers.
// What each leaf and sub-function is compared to: docs/tdx-module-standin.md.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "host_hooks.h"
#include "td_build.h"
#include "td_cpuid.h"
#include "td_instructions.h"
#include "page_acceptance.h"
#include "td_msr.h"
#include "tdx_progress.h"
#include "tdreport.h"
#include "vmm.h"
#include "ucall/host/tdvmcall.h"

namespace tdsim::tdx {

// KVM_HC_VAPIC_POLL_IRQ: the one KVM hypercall KVM answers without a CPUID feature bit
// or a userspace opt-in; every other number is -KVM_ENOSYS for our guests.
inline constexpr uint64_t kKvmHcVapicPollIrq = 1;
inline constexpr uint64_t kKvmEnosys = static_cast<uint64_t>(-1000);

// What KVM's handling of one TDG.VP.VMCALL sub-function decided: the VMM's reply, the
// event the host sees (if any), whether the vCPU stops, and why the call was refused.
struct SubfnResult {
  VmcallReply reply;
  std::optional<Event> event;
  bool stop = false;
  std::string why;  // for a reply whose status is not SUCCESS
};

// The #VE information the TDX module keeps per vCPU (TDG.VP.VEINFO.GET's outputs).
struct VeInfo {
  uint32_t exit_reason = 0;
  uint64_t qualification = 0;
  uint64_t gla = 0, gpa = 0;
  uint32_t insn_length = 0, insn_info = 0;
};

// The #VE of a port-I/O instruction of `insn_length` bytes (IN or OUT, `size` 1/2/4
// bytes, the port from an immediate or from DX).
VeInfo io_instruction_ve(bool in, uint16_t port, uint32_t size, bool immediate, uint32_t insn_length);
// The #VE of a CPUID the module does not answer (exit reason 10, qualification 0, 2 bytes).
VeInfo cpuid_instruction_ve();

// The #VE of an RDMSR (exit reason 31) or WRMSR (32) the module does not run natively.
VeInfo msr_instruction_ve(bool write);

// The #VE of an instruction the module's dispatcher sends to its generic #VE path
// (td_instructions.h: INVD, WBINVD, VMCALL): its exit reason, qualification 0, its length.
VeInfo instruction_ve(const TdInstruction& insn);

// What a TD's HLT is when the guest's IDT has no present vector-20 gate: the module still
// injects the #VE, whose delivery fails (#GP, then #DF, then a triple fault): the TD shuts
// down. The same event on every mechanism, naming the instruction.
FaultEvent hlt_without_ve_gate(uint32_t vcpu, uint64_t hlt_rip);

// The #VE of HLT (exit reason 12, qualification 0, 1 byte): the module never lets a TD
// halt natively.
VeInfo hlt_instruction_ve();

// The #VE of a data access to a shared GPA that nothing backs (an EPT violation, exit
// reason 48): `gla` the linear address, `shared_gpa` the GPA with the shared bit. The
// CPU reports no instruction length for it: the guest decodes the instruction.
VeInfo shared_gpa_ve(bool write, uint64_t gla, uint64_t shared_gpa);

// How a guest touched memory (an EPT violation's qualification bits 2:0).
enum class GuestAccess { kRead, kWrite, kFetch };

// The #VE of an access to a private page that is still PENDING (exit reason 48): the
// qualification has no EPT permission bits (a pending entry grants none), GLA valid and
// final translation; the GPA is the private one. No instruction length, as for MMIO.
VeInfo pending_page_ve(GuestAccess access, uint64_t gla, uint64_t gpa);

// What a TD's access to a PENDING private page leads to (TDX module td_ept_violation.c):
// with ATTRIBUTES.SEPT_VE_DISABLE clear the module injects the #VE `ve`; with it set the
// TD exits to KVM with a "pending EPT violation", which KVM does not expect (the guest
// touched memory before accepting it): KVM marks the VM dead and KVM_RUN fails with EIO
// (`vm_dead`). `why` says which, for the event.
struct PendingAccess {
  bool vm_dead = false;
  VeInfo ve;
  std::string why;
};

// What the CPUID instruction does in a TD: the value, or a #VE with `ve` and why.
struct InstructionCpuid {
  std::optional<CpuidValue> value;
  VeInfo ve;
  std::string why;
  // A firmware milestone this CPUID is (TDX detected: leaf 0x21), for the vCPU to report.
  std::optional<std::string> milestone;
};

struct TdcallResult {
  ucall::TdcallRegs regs;      // the guest's registers after the TDCALL
  std::optional<Event> event;  // what the host saw, if anything
  bool stop = false;           // the vCPU does not resume (terminal event or halt)
  // KVM went to userspace and the answer is not in yet (TdxModule::set_userspace): the
  // registers are the call's, nothing happened, and the mechanism leaves RIP at the
  // TDCALL so that it runs again, and completes, once the answer is there.
  bool deferred = false;
};

// Who answers KVM's userspace exits: the program driving a user-space KVM (ukvm/). It
// returns the program's completion of `exit` if the program has given one, else nullopt:
// the exit goes out to the program and the TDCALL is deferred (TdcallResult::deferred).
using UserspaceHandler = std::function<std::optional<VmmCompletion>(const UserspaceExit& exit)>;

class TdxModule {
 public:
  // `image` and `mem` must outlive this object.
  TdxModule(const TdImage& image, GuestMemory& mem, TdxConfig config = {});

  // Emulates the TDCALL at `rip` (RIP is then advanced by the caller, the call being
  // trap-like). Leaves: TDG.VP.VMCALL (0), TDG.VP.INFO (1), TDG.MR.RTMR.EXTEND (2),
  // TDG.VP.VEINFO.GET (3), TDG.MR.REPORT (4), TDG.MEM.PAGE.ACCEPT (6); anything else
  // is TDX_OPERAND_INVALID on RAX. Rejections produce a TdcallRejectedEvent and never
  // stop the vCPU; HLT and ReportFatalError do.
  TdcallResult tdcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);

  // The standard TDG.VP.VMCALL sub-functions KVM handles, one handler each: adding one
  // is its ABI number (include/tdsim/abi/tdx.h) plus one entry and handler in
  // tdx/vmcall_subfns.cc. Every backend that feeds this module gets it.
  struct Subfn {
    uint64_t id;       // R11
    const char* name;  // as the GHCI names it
    SubfnResult (TdxModule::*handle)(const VmcallRequest&);
  };
  static const std::vector<Subfn>& subfns();
  static const Subfn* find_subfn(uint64_t id);
  // The GHCI name of a TDG.VP.VMCALL sub-function ("MapGPA"), or "unknown sub-function".
  static const char* subfn_name(uint64_t r11);

  // The CPU raises #VE on `vcpu` (an instruction the TDX module does not let a TD run,
  // port I/O): the module records `info` for TDG.VP.VEINFO.GET and the vCPU takes vector
  // 20. While an earlier #VE's information has not been read, a new one is a #DF instead
  // (the information stays the earlier one's).
  enum class VeDelivery { kVe, kDoubleFault };
  VeDelivery raise_ve(uint32_t vcpu, const VeInfo& info);

  // The CPUID instruction on a vCPU in state `s`: the module answers every leaf from the
  // TD's virtual CPUID values (td_cpuid.h) or raises #VE; no engine answers on its own.
  InstructionCpuid instruction_cpuid(uint32_t leaf, uint32_t subleaf, const CpuidVcpuState& s) const;
  // RDMSR/WRMSR of `msr` in this TD by the table (td_msr.h): native, #VE, #GP, or one of
  // the module's own handlers (kModule).
  MsrDecision msr_access(uint32_t msr, bool write) const {
    return td_msr_access(msr, write, MsrTdConfig{cfg_.attributes, cfg_.xfam, td_cpuid_});
  }
  // The whole exit on `vcpu`, whose EFER is `efer`: as msr_access, with a kModule rule run
  // through its handler (td_msr_virtual.h), which may complete the instruction (kModule
  // with a RDMSR's value), let the CPU do it (kNative), or refuse it. `value`: a WRMSR's
  // EDX:EAX. Keeps the vCPU's IA32_DEBUGCTL.
  MsrDecision msr_instruction(uint32_t vcpu, uint32_t msr, bool write, uint64_t value, uint64_t efer);
  // The TD's virtual CPUID values (TDH.MNG.INIT's result for this configuration), before
  // the dynamic bits: what KVM_TDX_INIT_VM's configuration and KVM_SET_CPUID2 start from.
  const CpuidModel& td_cpuid() const { return td_cpuid_; }

  // Which private pages are pending (the mechanism fences them, tdx/page_acceptance.h).
  const PageAcceptance& acceptance() const { return acceptance_; }
  // The vCPU touched private `gpa` (linear `gla`): nullopt while the page is not pending
  // (the access goes ahead), else what the TD gets.
  std::optional<PendingAccess> pending_access(GuestAccess access, uint64_t gla, uint64_t gpa) const;

  // Back to the TD's initial state: RTMRs zero, MSRs written by the guest forgotten.
  void reset();

  // Told of every write the module makes into guest memory (TDG.MR.REPORT's output), so
  // an engine that caches translated code can drop what the write made stale.
  using HostWriteObserver = std::function<void(uint64_t gpa, uint64_t len)>;
  void set_host_write_observer(HostWriteObserver o) { host_write_ = std::move(o); }

  // KVM's userspace exits go to `h` instead of the VMM model (tdx/vmm.h). Empty: the VMM
  // model answers (the default: tdsim is the VMM).
  void set_userspace(UserspaceHandler h) { userspace_ = std::move(h); }

  // Builds the TD through the TDX module's build calls (td_build.h): TDH.MNG.INIT with this
  // configuration (GPAW from the image, MAX_VCPUS, attributes, XFAM), TDH.VP.INIT per vCPU,
  // then `pages` added, and extended where measured, from guest memory as it is now, then
  // TDH.MR.FINALIZE. A mechanism calls it once, after loading the TD's memory and before
  // any vCPU runs; the default pages are core launch_page_order(image), the list the KVM
  // TDX launch plan adds. Throws TdBuildError naming the call the module refused.
  void build_td();
  void build_td(const std::vector<PageAdd>& pages);
  const TdBuild& td_build() const { return build_; }

  // MRTD as TDG.MR.REPORT reports it: accumulated by build_td() from the pages it added
  // and measured. Throws std::logic_error before the TD was built (no TD runs unbuilt).
  const measure::Mrtd& mrtd() const;
  const std::array<Digest48, 4>& rtmrs() const { return rtmr_; }
  // What a firmware's run leaves to report when it ends (firmware images only): each
  // TDG.MR.RTMR.EXTEND and the RTMR values (tdx_progress.h), and how many pages the guest
  // accepted, as MilestoneEvents.
  std::vector<Event> end_of_run() const;
  const TdxConfig& config() const { return cfg_; }
  // TD_PARAMS.MAX_VCPUS: the configuration's, else KVM's limit as KVM_TDX_INIT_VM leaves it.
  uint32_t max_vcpus() const { return cfg_.max_vcpus ? cfg_.max_vcpus : kKvmMaxVcpus; }

 private:
  TdcallResult vp_info(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  TdcallResult mr_report(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  TdcallResult rtmr_extend(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  TdcallResult veinfo_get(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  TdcallResult page_accept(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  TdcallResult vmcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in);
  // KVM's handling of the standard sub-functions (tdx/vmcall_subfns.cc): one handler
  // each, found by R11 in subfns(); `req` is the VMM's view.
  SubfnResult kvm_subfn(const VmcallRequest& req);
  SubfnResult subfn_cpuid(const VmcallRequest& req);
  SubfnResult subfn_hlt(const VmcallRequest& req);
  SubfnResult subfn_io(const VmcallRequest& req);
  SubfnResult subfn_rdmsr(const VmcallRequest& req);
  SubfnResult subfn_wrmsr(const VmcallRequest& req);
  SubfnResult subfn_request_mmio(const VmcallRequest& req);
  SubfnResult subfn_get_td_vmcall_info(const VmcallRequest& req);
  SubfnResult subfn_map_gpa(const VmcallRequest& req);
  SubfnResult subfn_get_quote(const VmcallRequest& req);
  SubfnResult subfn_report_fatal_error(const VmcallRequest& req);
  SubfnResult subfn_setup_event_notify_interrupt(const VmcallRequest& req);
  // KVM returns to userspace: the VMM layer (tdx/vmm.h) answers the exit.
  VmmCompletion to_userspace(const VmcallRequest& req, ExitKind exit) const;
  // A private GPA operand of a module leaf: nullopt if fine, else the status to return.
  std::optional<uint64_t> check_private_gpa(uint64_t gpa, uint64_t size, uint64_t align,
                                            uint64_t operand_id, std::string& why) const;

  const TdImage& image_;
  GuestMemory& mem_;
  TdxConfig cfg_;
  CpuidModel cpuid_;      // KVM's view (TDG.VP.VMCALL<CPUID>)
  CpuidModel td_cpuid_;  // the CPUID instruction's (the TDX module's virtual values)
  TdBuild build_;
  std::array<Digest48, 4> rtmr_{};
  PageAcceptance acceptance_;
  mutable TdxProgress progress_;
  // 2 MiB/1 GiB accepts refused with PAGE_SIZE_MISMATCH: a firmware tries each large page
  // first and falls back to 4 KiB, so only the first refusal is an event (the rest would
  // drown the output); end_of_run() gives the count.
  uint64_t size_mismatches_ = 0;
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> msr_writes_;  // (vcpu, msr) -> value
  std::map<uint32_t, VeInfo> ve_info_;  // vCPUs whose #VE information is valid (unread)
  std::map<uint32_t, uint64_t> debugctl_;  // IA32_DEBUGCTL per vCPU, as the module keeps it (0 at reset)
  HostWriteObserver host_write_;
  UserspaceHandler userspace_;
  // Set by to_userspace() when the handler had no answer yet; vmcall() turns the call
  // into a deferred one.
  mutable bool deferred_ = false;
};

}  // namespace tdsim::tdx
