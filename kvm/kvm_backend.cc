#include "kvm_backend.h"

#include <linux/kvm.h>

#include <mutex>
#include <string>

#include "core/guest_memory.h"
#include "core/shared_bit_fold.h"
#include "exit_events.h"
#include "fault_capture.h"
#include "kvm_sys.h"
#include "kvm_vm.h"
#include "tdcall_emulation.h"
#include "td_initial_state.h"
#include "tdx_uapi.h"
#include "vcpu_runner.h"

namespace tdsim {

namespace {

uint64_t current_rip(const kvm::KvmVcpu& vcpu) {
  kvm_regs regs{};
  kvm::checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  return regs.rip;
}

bool handle_exit(kvm::KvmVcpu& vcpu, uint32_t index, const kvm::Emit& emit, const TdImage& image,
                 const GuestMemory& mem, const MmioReadHandler& read, tdx::TdxModule& platform,
                 std::mutex& platform_lock) {
  kvm_run& run = *vcpu.run();
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO:
      return !emit(kvm::decode_mmio_exit(run, index, image, mem, read));
    case KVM_EXIT_HLT:
      // KVM reports RIP after the 1-byte HLT; events name the instruction itself.
      emit(HaltEvent{index, current_rip(vcpu) - 1});
      return false;
    case KVM_EXIT_IO:
      // No port devices exist in a TD (port I/O would be a #VE there): stop rather than
      // pretend the access did something.
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false,
                      "unexpected port I/O: " + kvm::describe_exit(run)});
      return false;
    case KVM_EXIT_SHUTDOWN:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, true,
                      "triple fault (KVM_EXIT_SHUTDOWN)"});
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      if (kvm::is_tdcall_emulation_failure(run))
        return kvm::emulate_tdcall(vcpu, index, platform, platform_lock, emit);
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false, kvm::describe_exit(run)});
      return false;
    case KVM_EXIT_INTR:
      return true;  // a signal for this thread; run_vcpus decides whether to go on
    default:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false,
                      "unexpected exit: " + kvm::describe_exit(run)});
      return false;
  }
}

}  // namespace

void KvmBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  GuestMemory mem(image);
  // The S-bit (47/51) would be a reserved physical-address bit for this guest
  // (MAXPHYADDR 36 without settable CPUID): fold it out, shared regions stay untagged.
  fold_shared_bit_in_page_tables(image, mem);

  // The TD platform behind the emulated TDCALLs: the same TDX module, KVM TDVMCALL
  // handling and VMM hooks the Unicorn backend uses, with this backend's MMIO device.
  tdx::TdxConfig config = config_;
  config.hooks.mmio_read = mmio_read_;
  tdx::TdxModule platform(image, mem, std::move(config));
  std::mutex platform_lock;

  kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
  uint32_t slot = 0;
  for (const GuestMemory::Block& b : mem.blocks())
    vm.set_user_memory_region(slot++, b.gpa, b.size, b.host);

  std::vector<kvm::KvmVcpu*> vcpus;
  for (uint32_t i = 0; i < image.nr_vcpus; ++i) {
    kvm::KvmVcpu& v = vm.create_vcpu(i);
    kvm::load_td_initial_state(v.fd(), image, i);
    vcpus.push_back(&v);
  }
  kvm::run_vcpus(vcpus, limits, sink,
                 [&](kvm::KvmVcpu& v, uint32_t index, const kvm::Emit& emit) {
                   // A plain VM's registers can be read: every fault carries its report.
                   const kvm::Emit explained = [&](const Event& e) {
                     const auto* f = std::get_if<FaultEvent>(&e);
                     if (!f) return emit(e);
                     FaultEvent copy = *f;
                     kvm::explain_into(copy, v.fd(), image, mem);
                     return emit(copy);
                   };
                   return handle_exit(v, index, explained, image, mem, mmio_read_, platform, platform_lock);
                 });
}

}  // namespace tdsim
