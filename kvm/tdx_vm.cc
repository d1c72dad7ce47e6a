#include "tdx_vm.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "exit_events.h"
#include "tdx/vmm.h"
#include "tdx_exits.h"
#include "tdx_launch.h"
#include "tdx_plan.h"

namespace tdsim::kvm {

namespace {

// RIP is unknown for a TD (its state is encrypted); events carry 0. The exits the VMM
// takes (MMIO, port I/O, MapGPA, KVM_EXIT_TDX, ReportFatalError) go through
// kvm/tdx_exits.cc to the platform's VMM layer, the one the simulated backends use.
bool handle_tdx_exit(KvmVcpu& vcpu, uint32_t index, const Emit& emit, const ::tdsim::tdx::Vmm& vmm) {
  kvm_run& run = *vcpu.run();
  const TdxExitOutcome o = handle_vmm_exit(run, vcpu.run_size(), index, vmm);
  if (o.handled) {
    const bool terminal = o.event && emit(*o.event);
    return !(terminal || o.stop);
  }
  switch (run.exit_reason) {
    case KVM_EXIT_SHUTDOWN:
      emit(FaultEvent{index, 0, -1, 0, true, "triple fault (KVM_EXIT_SHUTDOWN)"});
      return false;
    case KVM_EXIT_INTR:
      return true;
    default:
      break;
  }
  emit(FaultEvent{index, 0, -1, 0, false, "unexpected exit: " + describe_exit(run)});
  return false;
}

// A TD's HLT (TDG.VP.VMCALL<HLT>, or a HLT the guest's #VE handler turns into one) never
// reaches userspace: its local APIC is in the kernel, so KVM marks the vCPU
// KVM_MP_STATE_HALTED and blocks in KVM_RUN until an interrupt or a signal. The stepper's
// probe timer is that signal; KVM_GET_MP_STATE, which KVM answers for a TD as for any vCPU,
// then says HALTED: the halt event. A KVM that refuses the ioctl leaves the halt to the
// run's budgets.
std::optional<Event> halted_probe(KvmVcpu& vcpu, uint32_t index) {
  kvm_mp_state s{};
  if (::ioctl(vcpu.fd(), KVM_GET_MP_STATE, &s) != 0) return std::nullopt;
  if (s.mp_state != KVM_MP_STATE_HALTED) return std::nullopt;
  return HaltEvent{index, 0};
}

}  // namespace

TdxVm::TdxVm(const TdImage& image, const VmOptions& options, ::tdsim::tdx::TdxConfig config)
    : image_(image),
      mem_(image),
      mmio_read_(std::make_shared<MmioReadHandler>()),
      config_(::tdsim::tdx::forward_mmio_reads(std::move(config), mmio_read_)) {
  const TdxPlan plan = plan_tdx_launch(image, config_);
  launch_ = std::make_unique<TdxLaunch>(image, mem_, plan);
  vmm_ = std::make_unique<::tdsim::tdx::Vmm>(image, mem_, config_);
  const std::vector<KvmVcpu*> vcpus = launch_->vcpus();
  for (uint32_t i = 0; i < vcpus.size(); ++i)
    vcpus_.push_back(std::make_unique<KvmStepper>(
        *vcpus[i], i,
        [vmm = vmm_.get()](KvmVcpu& v, uint32_t index, const Emit& emit) { return handle_tdx_exit(v, index, emit, *vmm); },
        options.limits, /*registers_readable=*/false, halted_probe));
}

// The steppers go first (they use the launch's vCPUs), then the VMM, then the TD.
TdxVm::~TdxVm() {
  vcpus_.clear();
  vmm_.reset();
  launch_.reset();
}

tdsim::Vcpu& TdxVm::vcpu(uint32_t index) { return *vcpus_.at(index); }

bool TdxVm::shared_range(uint64_t gpa, uint64_t len) const {
  const Region* r = image_.region_at(gpa);
  return r && r->shared && len <= r->end() - gpa;
}

bool TdxVm::read(uint64_t gpa, void* dst, uint64_t len) const {
  return shared_range(gpa, len) && mem_.read(gpa, dst, len);
}

bool TdxVm::write(uint64_t gpa, const void* src, uint64_t len) {
  return shared_range(gpa, len) && mem_.write(gpa, src, len);
}

void TdxVm::set_mmio_read(MmioReadHandler handler) { *mmio_read_ = std::move(handler); }

}  // namespace tdsim::kvm
