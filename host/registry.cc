#include "registry.h"

#include "kvm/kvm_backend.h"
#include "kvm/plain_kvm_vm.h"
#include "kvm/plain_machine.h"
#include "kvm/probe.h"
#include "kvm/tdx_backend.h"
#include "kvm/tdx_vm.h"
#include "sim/sim_vm.h"
#include "sim/unicorn_backend.h"

namespace tdsim::host {

namespace {

std::string kvm_unavailable(std::string_view which) {
  const kvm::HostProbe p = kvm::probe_host();
  const kvm::BackendAvailability* a = p.backend(which);
  if (!a) return std::string(which) + ": the host probe does not know this backend";
  return a->can_run ? std::string() : a->reason;
}

std::vector<BackendInfo> make_registry() {
  std::vector<BackendInfo> r;
  r.push_back(BackendInfo{
      "unicorn",
      "Unicorn 2.1 emulator in the TD initial state, with the TD platform (tdx/) behind TDCALL",
      BackendCaps{.instruction_budget = true, .register_access = true, .tracing = true, .debug_target = true,
                  .stepping = true, .real_td = false, .in_process_engines = true, .cpuid_ve = true, .msr_ve = true,
                  .pending_page_ve = true, .insn_ve = true},
      [] { return std::string(); },
      [](const BackendSetup& s) {
        auto b = std::make_unique<UnicornBackend>(s.config);
        b->set_trace(s.trace);
        return std::unique_ptr<Backend>(std::move(b));
      },
      [](const TdImage& image, const VmOptions& o, const BackendSetup& s) {
        auto vm = std::make_unique<sim::SimVm>(image, o, s.config);
        vm->set_trace(s.trace);
        return std::unique_ptr<Vm>(std::move(vm));
      }});
  r.push_back(BackendInfo{
      "kvm",
      "plain KVM VM in the TD initial state; TDCALLs trapped and answered by the TD platform",
      BackendCaps{.instruction_budget = false, .register_access = true, .tracing = false, .debug_target = true,
                  .stepping = true, .real_td = false, .msr_ve = true},
      [] { return kvm_unavailable("kvm"); },
      [](const BackendSetup& s) { return std::unique_ptr<Backend>(std::make_unique<KvmBackend>(s.config)); },
      [](const TdImage& image, const VmOptions& o, const BackendSetup& s) {
        return std::unique_ptr<Vm>(std::make_unique<kvm::PlainKvmVm>(image, o, s.config));
      }});
  r.back().cpuid_fidelity = [] { return kvm::plain_kvm_cpuid_fidelity(); };
  r.push_back(BackendInfo{
      "kvm-tdx",
      "a real TD through the KVM TDX uAPI (TDX hardware)",
      BackendCaps{.instruction_budget = false, .register_access = false, .tracing = false, .debug_target = false,
                  .stepping = true, .real_td = true, .cpuid_ve = true, .msr_ve = true,
                  .pending_page_ve = true, .insn_ve = true},
      [] { return kvm_unavailable("kvm-tdx"); },
      [](const BackendSetup& s) { return std::unique_ptr<Backend>(std::make_unique<TdxBackend>(s.config)); },
      [](const TdImage& image, const VmOptions& o, const BackendSetup& s) {
        return std::unique_ptr<Vm>(std::make_unique<kvm::TdxVm>(image, o, s.config));
      }});
  return r;
}

}  // namespace

const std::vector<BackendInfo>& backends() {
  static const std::vector<BackendInfo> registry = make_registry();
  return registry;
}

const BackendInfo* find_backend(std::string_view name) {
  for (const BackendInfo& b : backends())
    if (b.name == name) return &b;
  return nullptr;
}

const BackendInfo& auto_backend() {
  return *find_backend(kvm::probe_host().tdx_usable ? "kvm-tdx" : "unicorn");
}

}  // namespace tdsim::host
