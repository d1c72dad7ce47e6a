#include "capabilities.h"

#include <linux/kvm.h>

#include <algorithm>

#include "tdx/cpuid_model.h"

namespace tdsim::ukvm {

namespace t = kvm::tdx;

long check_extension(long cap, bool vm) {
  (void)vm;  // a TD answers as /dev/kvm does: the only VM type offered is the TD
  switch (cap) {
    case KVM_CAP_USER_MEMORY: return 1;
    case t::kCapUserMemory2: return 1;
    case t::kCapGuestMemfd: return 1;
    // The VM-scoped attribute model: KVM_SET_MEMORY_ATTRIBUTES on the VM fd takes PRIVATE.
    case t::kCapMemoryAttributes: return static_cast<long>(t::kMemoryAttributePrivate);
    case t::kCapVmTypes: return 1l << t::kX86TdxVm;
    case KVM_CAP_NR_VCPUS: return kMaxVcpus;
    case KVM_CAP_MAX_VCPUS: return kMaxVcpus;
    case KVM_CAP_MAX_VCPU_ID: return kMaxVcpuId;
    case KVM_CAP_NR_MEMSLOTS: return kMaxMemslots;
    case KVM_CAP_IMMEDIATE_EXIT: return 1;
    case KVM_CAP_BINARY_STATS_FD: return 1;
    case KVM_CAP_GET_TSC_KHZ: return 1;
    case t::kCapSplitIrqchip: return 1;
    case t::kCapExitHypercall: return static_cast<long>(kExitHypercallValidMask);
    case KVM_CAP_READONLY_MEM: return 0;  // a TD has no read-only memslots
    default: return 0;
  }
}

namespace {

t::CpuidEntry2 entry(uint32_t fn, uint32_t index, bool indexed, const tdx::CpuidValue& v) {
  t::CpuidEntry2 e{};
  e.function = fn;
  e.index = index;
  e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
  e.eax = v.eax;
  e.ebx = v.ebx;
  e.ecx = v.ecx;
  e.edx = v.edx;
  return e;
}

}  // namespace

std::vector<t::CpuidEntry2> supported_cpuid() {
  // The platform's CPUID model for a GPAW-48 TD: 0x80000008 EAX = 48 | 48 << 8 | 52 << 0,
  // i.e. guest physical width 48, linear 48 (no LA57), MAXPA 52.
  const tdx::CpuidModel m = tdx::CpuidModel::default_for(48);
  std::vector<t::CpuidEntry2> out;
  for (const auto& [key, v] : m.leaves) {
    const bool indexed = key.second != tdx::CpuidModel::kAnySubleaf;
    out.push_back(entry(key.first, indexed ? key.second : 0, indexed, v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.function != b.function ? a.function < b.function : a.index < b.index;
  });
  return out;
}

std::vector<t::CpuidEntry2> configurable_cpuid() {
  std::vector<t::CpuidEntry2> out;
  for (t::CpuidEntry2 e : supported_cpuid()) {
    if (e.function == 0x21 || e.function == 0x80000000) continue;  // fixed by the module
    if (e.function == t::kCpuidLeafAddressSizes) {
      // Only GPAW (EAX[23:16]) is configurable in 0x80000008; KVM reports it as all ones.
      e.eax = 0xff0000;
      e.ebx = e.ecx = e.edx = 0;
    }
    out.push_back(e);
  }
  return out;
}

uint32_t gpaw_from_cpuid(uint32_t eax) {
  const uint32_t w = (eax >> 16) & 0xff;
  return w == 48 || w == 52 ? w : 0;
}

}  // namespace tdsim::ukvm
