// The CPUID values the simulated VMM (KVM's kvm_cpuid) answers for TDG.VP.VMCALL<CPUID>,
// plus leaf 0x21, which the TDX module itself virtualises. A plain value: tests and
// hostile-host cases replace or edit entries. Engine-free; knows no Unicorn.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace tdsim::tdx {

struct CpuidValue {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  friend bool operator==(const CpuidValue&, const CpuidValue&) = default;
};

struct CpuidModel {
  // Subleaf key for leaves whose output does not depend on ECX.
  static constexpr uint32_t kAnySubleaf = 0xffffffffu;
  std::map<std::pair<uint32_t, uint32_t>, CpuidValue> leaves;

  // The exact (leaf, subleaf) entry, else the (leaf, kAnySubleaf) one.
  std::optional<CpuidValue> find(uint32_t leaf, uint32_t subleaf) const;
  // What KVM answers: the entry, or all zeros for a leaf it does not know (KVM's
  // out-of-range fallback to the highest basic leaf is not modelled; see docs).
  CpuidValue answer(uint32_t leaf, uint32_t subleaf) const;
  void set(uint32_t leaf, uint32_t subleaf, CpuidValue v) { leaves[{leaf, subleaf}] = v; }

  // Leaves 0, 1, 0x21 ("IntelTDX    "), 0x80000000 and 0x80000008 (EAX[23:16] = gpaw).
  static CpuidModel default_for(uint32_t gpaw);
};

// "IntelTDX    " as CPUID.0x21.0 returns it (EBX, EDX, ECX).
inline constexpr CpuidValue kTdxSignatureLeaf{0, 0x65746e49 /* Inte */, 0x20202020 /* "    " */,
                                              0x5844546c /* lTDX */};

}  // namespace tdsim::tdx
