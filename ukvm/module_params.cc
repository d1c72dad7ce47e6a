#include "module_params.h"

#include <cstring>

namespace tdsim::ukvm {

namespace {

struct Param {
  const char* path;
  const char* value;
};

// Booleans print "Y"/"N", integers in decimal, each with a newline, as sysfs does.
constexpr Param kParams[] = {
    {"/sys/module/kvm_intel/parameters/tdx", "Y\n"},
    {"/sys/module/kvm_intel/parameters/ept", "Y\n"},
    {"/sys/module/kvm_intel/parameters/unrestricted_guest", "Y\n"},
    {"/sys/module/kvm_intel/parameters/enable_apicv", "Y\n"},
    {"/sys/module/kvm/parameters/tdp_mmu", "Y\n"},
    // Forced emulation is a debug knob of a plain VM; a TD's instructions are never emulated.
    {"/sys/module/kvm/parameters/force_emulation_prefix", "0\n"},
};

}  // namespace

std::optional<std::string> module_param(const char* path) {
  if (!path) return std::nullopt;
  for (const Param& p : kParams)
    if (std::strcmp(path, p.path) == 0) return std::string(p.value);
  return std::nullopt;
}

}  // namespace tdsim::ukvm
