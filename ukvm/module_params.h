// What a program reads about the KVM modules (/sys/module/kvm*/parameters/*), answered as
// a TDX-enabled kvm / kvm_intel print it. Parameters not listed here are the host's own
// file (or ENOENT when the host has none): the program sees no invented value.
#pragma once
#include <optional>
#include <string>

namespace tdsim::ukvm {

// The file's contents for a parameter we answer, else nullopt (pass the path through).
std::optional<std::string> module_param(const char* path);

}  // namespace tdsim::ukvm
