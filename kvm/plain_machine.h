// A plain (default-type) KVM VM holding a TdImage in the TD initial state, with the TD
// platform (tdx/) behind the TDCALLs this KVM cannot execute. The mechanism behind
// PlainKvmVm (the host API), which KvmBackend drives with a thread per vCPU.
#pragma once
#include <linux/kvm.h>

#include <functional>
#include <memory>
#include <string>
#include <mutex>
#include <optional>
#include <vector>

#include "core/backend.h"
#include "core/cpuid_fidelity.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/cpu_state.h"
#include "kvm_vm.h"
#include "tdx/tdx_module.h"
#include "kvm_stepper.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

class PlainMachine {
 public:
  // `image` must outlive the machine. MMIO reads (KVM_EXIT_MMIO and emulated TDCALL
  // MMIO alike) are answered by config.hooks.mmio_read. Throws BackendError.
  PlainMachine(const TdImage& image, ::tdsim::tdx::TdxConfig config);

  const TdImage& image() const { return image_; }
  GuestMemory& memory() { return mem_; }
  const GuestMemory& memory() const { return mem_; }
  const std::vector<KvmVcpu*>& vcpus() const { return vcpus_; }

  // One exit of vCPU `index` after KVM_RUN returned to userspace (kvm_stepper.h's
  // ExitHandler contract): events go to `emit`, faults carry the explanation.
  bool handle_exit(KvmVcpu& vcpu, uint32_t index, const Emit& emit);
  // Every emulated TDCALL as one line (tdx/tdcall_format.h), for a debugger's log. Set
  // before the vCPUs run; empty: none.
  void set_tdcall_observer(std::function<void(const std::string&)> o) { tdcall_observer_ = std::move(o); }

 private:
  // KVM_EXIT_IO: the #VE a TD takes for port I/O, injected with the instruction undone.
  bool port_io_ve(KvmVcpu& vcpu, uint32_t index, const Emit& emit);
  // KVM_EXIT_MMIO in the TD's shared MMIO window: the #VE of an EPT violation, injected
  // with the access undone (true); false for any other GPA (plain_ve.cc).
  bool shared_mmio_ve(KvmVcpu& vcpu, uint32_t index);
  struct MmioInsn {
    uint64_t rip, gla;
  };
  // The instruction that made an MMIO exit of `len` bytes at `gpa`, ending at `end`,
  // with its GLA.
  std::optional<MmioInsn> mmio_instruction(const diag::CpuState& s, uint64_t end, bool write, uint64_t gpa,
                                           uint32_t len) const;
  // KVM_EXIT_HLT: the #VE the TDX module raises for HLT, RIP back on the HLT, when the
  // guest's IDT has a #VE gate (true: the vCPU goes on); without one the TD's shutdown,
  // emitted (false: the vCPU stops) (plain_ve.cc).
  bool hlt_ve(KvmVcpu& vcpu, uint32_t index, const Emit& emit);
  // KVM_EXIT_INTERNAL_ERROR on an instruction the TDX module's dispatcher refuses
  // (tdx/td_instructions.h; this host's KVM fails to emulate MONITOR, say): the #UD or #VE
  // the module injects, RIP on the instruction (true); false for anything else.
  bool dispatcher_instruction(KvmVcpu& vcpu, uint32_t index);
  // Before any vCPU runs: every MSR access that is not native in this TD exits to user
  // space (KVM_CAP_X86_USER_SPACE_MSR and an MSR filter). Throws BackendUnsupported when
  // this KVM cannot (plain_msr.cc).
  void route_msrs_to_module();
  // KVM_EXIT_X86_RDMSR/WRMSR: what the TDX module gives the access (its value, the
  // EFER write, #GP(0), or the #VE with the instruction undone) (plain_msr.cc).
  bool msr_exit(KvmVcpu& vcpu, uint32_t index);
  const TdImage& image_;
  GuestMemory mem_;
  MmioReadHandler mmio_read_;
  ::tdsim::tdx::TdxModule platform_;
  std::mutex platform_lock_;  // vCPU threads share the platform's TD-wide state
  std::function<void(const std::string&)> tdcall_observer_;
  KvmVm vm_;
  std::vector<KvmVcpu*> vcpus_;
};

// Finishes KVM's side of the vCPU's current exit with KVM_RUN and immediate_exit, without
// running guest code; `what` names the exit in the error. Throws BackendError.
void complete_pending_exit(KvmVcpu& vcpu, const char* what);
// Injects the #VE the platform raised (or the #DF it became) into the vCPU.
void inject_ve(KvmVcpu& vcpu, ::tdsim::tdx::TdxModule::VeDelivery d);

// vCPU `vcpu_index`'s KVM_SET_CPUID2 table for the TD CPUID model `cpu`: its initial APIC
// ID in leaf 1 EBX[31:24] and SYSCALL set in 0x80000001 EDX (64-bit mode's value).
std::vector<tdx::CpuidEntry2> plain_td_cpuid_table(::tdsim::tdx::CpuidModel cpu, uint32_t vcpu_index);

// Whether this host's plain KVM shows the TD CPUID model (the default configuration's)
// to a guest: probed once per process in a scratch VM (cpuid_probe.h).
const CpuidFidelity& plain_kvm_cpuid_fidelity();

}  // namespace tdsim::kvm
