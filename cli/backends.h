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

}  // namespace tdsim::cli
