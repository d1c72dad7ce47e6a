#include "cpuid_fidelity.h"

#include <fmt/format.h>

namespace tdsim {

namespace {

std::string bit_list(uint32_t x) {
  std::string s;
  for (int i = 0; i < 32; ++i)
    if (x & (1u << i)) s += (s.empty() ? "" : ", ") + std::to_string(i);
  return s;
}

}  // namespace

bool CpuidFidelity::shows_leaf(uint32_t function) const {
  if (!refused.empty()) return false;
  for (const CpuidDifference& d : differences)
    if (d.function == function) return false;
  return true;
}

uint32_t CpuidFidelity::guest_value(uint32_t function, uint32_t index, char reg, uint32_t model) const {
  for (const CpuidDifference& d : differences)
    if (d.function == function && d.index == index && d.reg == reg) return d.guest;
  return model;
}

std::string CpuidFidelity::describe() const {
  if (!refused.empty()) return refused;
  std::string s;
  for (const CpuidDifference& d : differences)
    s += fmt::format("{}CPUID 0x{:x}.{} E{}X: model 0x{:08x}, guest 0x{:08x} (bits {})", s.empty() ? "" : "; ",
                     d.function, d.index, static_cast<char>(d.reg - 'a' + 'A'), d.model, d.guest,
                     bit_list(d.model ^ d.guest));
  return s;
}

}  // namespace tdsim
