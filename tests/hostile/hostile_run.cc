#include "tests/hostile/hostile_run.h"

#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tests/guests/test_assets.h"

namespace tdsim::hostiletest {

std::unique_ptr<Backend> make_backend(Engine e) {
  if (e == Engine::kKvm) return std::make_unique<KvmBackend>();
  return std::make_unique<UnicornBackend>();
}

std::string unavailable(Engine e) {
  if (e == Engine::kUnicorn) return "";
  static const kvm::HostProbe probe = kvm::probe_host();
  const auto* b = probe.backend("kvm");
  return b->can_run ? "" : "plain KVM unusable: " + b->reason;
}

LayoutSpec spec_for(const char* elf_path, uint32_t nr_vcpus) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf_path);
  spec.guest_elf_name = elf_path;
  spec.nr_vcpus = nr_vcpus;
  return spec;
}

std::vector<Event> run(Engine e, const TdImage& image, uint64_t max_insns) {
  RunLimits limits;
  limits.max_insns = max_insns;
  limits.timeout = std::chrono::milliseconds(30'000);
  auto backend = make_backend(e);
  return run_collect(*backend, image, limits);
}

std::string dump(const std::vector<Event>& events) {
  std::string s;
  for (const Event& e : events) s += describe(e) + "\n";
  return s;
}

const Event* last_of_vcpu(const std::vector<Event>& events, uint32_t vcpu) {
  const Event* last = nullptr;
  for (const Event& e : events)
    if (vcpu_of(e) == vcpu) last = &e;
  return last;
}

}  // namespace tdsim::hostiletest
