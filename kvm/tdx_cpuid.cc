#include "tdx_cpuid.h"

namespace tdsim::kvm {

std::vector<tdx::CpuidEntry2> build_init_vm_cpuid(const std::vector<tdx::CpuidEntry2>& supported,
                                                  const std::vector<tdx::CpuidEntry2>& configurable,
                                                  uint32_t gpaw) {
  std::vector<tdx::CpuidEntry2> out;
  for (const auto& s : supported) {
    for (const auto& c : configurable) {
      if (c.function != s.function || c.index != s.index) continue;
      tdx::CpuidEntry2 e = s;
      e.eax &= c.eax;
      e.ebx &= c.ebx;
      e.ecx &= c.ecx;
      e.edx &= c.edx;
      out.push_back(e);
      break;
    }
  }
  tdx::CpuidEntry2* leaf = nullptr;
  for (auto& e : out)
    if (e.function == tdx::kCpuidLeafAddressSizes) leaf = &e;
  if (!leaf) {
    out.push_back(tdx::CpuidEntry2{tdx::kCpuidLeafAddressSizes, 0, 0, 0, 0, 0, 0, {0, 0, 0}});
    leaf = &out.back();
  }
  leaf->eax = (leaf->eax & ~0x00ff0000u) | ((gpaw & 0xff) << 16);
  return out;
}

}  // namespace tdsim::kvm
