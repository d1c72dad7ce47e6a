// How faithfully a backend's CPUID instruction shows the TD CPUID model it was given: the
// registers whose guest-visible value differs, or why it could not be asked. A backend
// that answers CPUID from the model itself (Unicorn's, through the TDX module stand-in) is
// exact by construction; plain KVM is asked at run time (kvm/cpuid_probe.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tdsim {

// One register of one leaf whose guest-visible value differs from the model's.
struct CpuidDifference {
  uint32_t function = 0, index = 0;
  char reg = 'a';  // 'a', 'b', 'c' or 'd': EAX..EDX
  uint32_t model = 0, guest = 0;
};

struct CpuidFidelity {
  std::string refused;  // the backend could not take or be asked about the model: why
  std::vector<CpuidDifference> differences;

  bool exact() const { return refused.empty() && differences.empty(); }
  // No register of leaf `function` differs (and the model was taken).
  bool shows_leaf(uint32_t function) const;
  // What the guest reads for (function, index, reg) where the model holds `model`.
  uint32_t guest_value(uint32_t function, uint32_t index, char reg, uint32_t model) const;
  // "" when exact(); else the refusal, or every differing register
  // ("CPUID 0x1.0 ECX: model 0x..., guest 0x... (bits 12, 28, 29); ...").
  std::string describe() const;
};

}  // namespace tdsim
