#include "cpuid_model.h"

namespace tdsim::tdx {

std::optional<CpuidValue> CpuidModel::find(uint32_t leaf, uint32_t subleaf) const {
  if (auto it = leaves.find({leaf, subleaf}); it != leaves.end()) return it->second;
  if (auto it = leaves.find({leaf, kAnySubleaf}); it != leaves.end()) return it->second;
  return std::nullopt;
}

CpuidValue CpuidModel::answer(uint32_t leaf, uint32_t subleaf) const {
  return find(leaf, subleaf).value_or(CpuidValue{});
}

CpuidModel CpuidModel::default_for(uint32_t gpaw) {
  CpuidModel m;
  // Max basic leaf 0x21 so the TDX leaf is in range; "GenuineIntel" in EBX, EDX, ECX.
  m.set(0, kAnySubleaf, {0x21, 0x756e6547, 0x6c65746e, 0x49656e69});
  // Family 6 model 0x8f (Sapphire Rapids) stepping 8. ECX: SSE3, SSSE3, CX16, SSE4.1/4.2,
  // x2APIC, POPCNT, XSAVE, hypervisor (bit 31: every TD reports it). EDX: the
  // baseline x86-64 set (FPU .. SSE2, with APIC, MSR, PAE, CX8, CMOV, PAT, FXSR).
  m.set(1, kAnySubleaf, {0x000806f8, 0x00000800, 0x84b82201, 0x178bfbff});
  m.set(0x21, 0, kTdxSignatureLeaf);
  m.set(0x80000000, kAnySubleaf, {0x80000008, 0, 0, 0});
  // EAX[7:0] physical address bits (52), [15:8] linear (48, 57 with LA57 for GPAW 52),
  // [23:16] guest physical address width = the TD's GPAW.
  const uint32_t linear = gpaw == 52 ? 57 : 48;
  m.set(0x80000008, kAnySubleaf, {(gpaw << 16) | (linear << 8) | 52u, 0, 0, 0});
  return m;
}

}  // namespace tdsim::tdx
