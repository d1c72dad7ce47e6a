#include "kvm_backend.h"

#include "plain_machine.h"
#include "vcpu_runner.h"

namespace tdsim {

void KvmBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  // The TD platform behind the emulated TDCALLs: the same TDX module, KVM TDVMCALL
  // handling and VMM hooks the Unicorn backend uses, with this backend's MMIO device.
  tdx::TdxConfig config = config_;
  config.hooks.mmio_read = mmio_read_;
  kvm::PlainMachine machine(image, std::move(config));
  kvm::run_vcpus(machine.vcpus(), limits, sink, [&](kvm::KvmVcpu& v, uint32_t index, const kvm::Emit& emit) {
    return machine.handle_exit(v, index, emit);
  });
}

}  // namespace tdsim
