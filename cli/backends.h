// --backend names to registry entries (host/registry.h), with "auto" resolved and an
// unknown name turned into a usage error that lists the choices.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "host/registry.h"

namespace tdsim::cli {

std::vector<std::string> backend_names();  // every registered backend, then "auto"

// "auto" picks kvm-tdx where the host runs TDs, else unicorn. Throws UsageError for an
// unknown name.
const host::BackendInfo& backend_info(const std::string& name);

std::unique_ptr<Backend> make_backend(const std::string& name, const host::BackendSetup& setup = {});

// "" when `backend` can run on this host, else why not (no /dev/kvm, no TDX, ...). A
// backend that cannot run here is a skip (exit 4), not an error: commands ask this
// before running and report the reason in their output format.
std::string unavailable_reason(const host::BackendInfo& info);

}  // namespace tdsim::cli
