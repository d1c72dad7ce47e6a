// The only place that knows every backend: maps a --backend name to an instance.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"

namespace tdsim::cli {

std::vector<std::string> backend_names();  // "unicorn", "kvm", "kvm-tdx", "auto"

// "auto" picks kvm-tdx where the host runs TDs, else unicorn. Throws UsageError for an
// unknown name.
std::unique_ptr<Backend> make_backend(const std::string& name);

// "" when `backend` can run on this host, else why not (no /dev/kvm, no TDX, ...). A
// backend that cannot run here is a skip (exit 4), not an error: commands ask this
// before running and report the reason in their output format.
std::string unavailable_reason(const Backend& backend);

}  // namespace tdsim::cli
