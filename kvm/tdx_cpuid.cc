#include "tdx_cpuid.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

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

std::vector<tdx::CpuidEntry2> build_init_vm_cpuid(const std::vector<tdx::CpuidEntry2>& supported,
                                                  const std::vector<tdx::CpuidEntry2>& configurable,
                                                  const ::tdsim::tdx::CpuidModel& td, uint32_t gpaw) {
  std::vector<tdx::CpuidEntry2> out = build_init_vm_cpuid(supported, configurable, gpaw);
  for (auto& e : out) {
    const ::tdsim::tdx::CpuidValue v = td.answer(e.function, e.index);
    e.eax &= v.eax;
    e.ebx &= v.ebx;
    e.ecx &= v.ecx;
    e.edx &= v.edx;
    if (e.function == tdx::kCpuidLeafAddressSizes) e.eax |= (gpaw & 0xff) << 16;
  }
  return out;
}

std::vector<tdx::CpuidEntry2> cpuid_entries(const ::tdsim::tdx::CpuidModel& m) {
  std::vector<tdx::CpuidEntry2> out;
  for (const auto& [key, v] : m.leaves) {
    const bool any = key.second == ::tdsim::tdx::CpuidModel::kAnySubleaf;
    out.push_back(tdx::CpuidEntry2{key.first, any ? 0 : key.second,
                                   any ? 0u : static_cast<uint32_t>(KVM_CPUID_FLAG_SIGNIFCANT_INDEX),
                                   v.eax, v.ebx, v.ecx, v.edx, {0, 0, 0}});
  }
  return out;
}

std::string set_vcpu_cpuid(int vcpu_fd, const std::vector<tdx::CpuidEntry2>& entries) {
  std::vector<uint8_t> buf(sizeof(tdx::Cpuid2Header) + entries.size() * sizeof(tdx::CpuidEntry2));
  auto* h = reinterpret_cast<tdx::Cpuid2Header*>(buf.data());
  h->nent = static_cast<uint32_t>(entries.size());
  if (!entries.empty()) std::memcpy(buf.data() + sizeof *h, entries.data(), entries.size() * sizeof entries[0]);
  if (::ioctl(vcpu_fd, tdx::kKvmSetCpuid2, buf.data()) == 0) return {};
  return std::string("KVM_SET_CPUID2: ") + std::strerror(errno);
}

std::vector<tdx::CpuidEntry2> td_vcpu_cpuid(std::vector<tdx::CpuidEntry2> td, const ::tdsim::tdx::CpuidModel& vmm) {
  const auto has = [&td](const tdx::CpuidEntry2& v) {
    const bool any = !(v.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
    return std::any_of(td.begin(), td.end(), [&](const tdx::CpuidEntry2& e) {
      return e.function == v.function && (any || !(e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e.index == v.index);
    });
  };
  for (const tdx::CpuidEntry2& v : cpuid_entries(vmm))
    if (!has(v)) td.push_back(v);
  return td;
}

}  // namespace tdsim::kvm
