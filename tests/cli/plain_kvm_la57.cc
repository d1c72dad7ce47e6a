#include "plain_kvm_la57.h"

#include "core/cpuid_fidelity.h"
#include "host/registry.h"
#include "tdx/td_cpuid.h"

namespace tdsim_test {

bool plain_kvm_shows_la57() {
  const tdsim::host::BackendInfo* kvm = tdsim::host::find_backend("kvm");
  if (!kvm || !kvm->cpuid_fidelity || !kvm->unavailable().empty()) return false;
  const tdsim::CpuidFidelity f = kvm->cpuid_fidelity();
  const uint32_t model = tdsim::tdx::td_cpuid_values(tdsim::tdx::sapphire_rapids_native(), {}).answer(7, 0).ecx;
  return f.refused.empty() && (f.guest_value(7, 0, 'c', model) & (1u << 16));
}

}  // namespace tdsim_test
