#include "plain_kvm_vm.h"

namespace tdsim::kvm {

PlainKvmVm::PlainKvmVm(const TdImage& image, const VmOptions& options, ::tdsim::tdx::TdxConfig config)
    : mmio_read_(std::make_shared<MmioReadHandler>()),
      machine_(std::make_unique<PlainMachine>(image, ::tdsim::tdx::forward_mmio_reads(std::move(config), mmio_read_))) {
  PlainMachine& m = *machine_;
  for (uint32_t i = 0; i < m.vcpus().size(); ++i)
    vcpus_.push_back(std::make_unique<KvmStepper>(
        *m.vcpus()[i], i,
        [&m](KvmVcpu& v, uint32_t index, const Emit& emit) { return m.handle_exit(v, index, emit); },
        options.limits, /*registers_readable=*/true));
}

PlainKvmVm::~PlainKvmVm() = default;

tdsim::Vcpu& PlainKvmVm::vcpu(uint32_t index) { return *vcpus_.at(index); }

bool PlainKvmVm::read(uint64_t gpa, void* dst, uint64_t len) const { return machine_->memory().read(gpa, dst, len); }

// KVM runs guest code from the memory itself: a write is seen at once, code included.
bool PlainKvmVm::write(uint64_t gpa, const void* src, uint64_t len) { return machine_->memory().write(gpa, src, len); }

DebugTarget* PlainKvmVm::debug_target() {
  if (!debug_) debug_ = std::make_unique<KvmDebugTarget>(*machine_);
  return debug_.get();
}

void PlainKvmVm::set_mmio_read(MmioReadHandler handler) { *mmio_read_ = std::move(handler); }

}  // namespace tdsim::kvm
