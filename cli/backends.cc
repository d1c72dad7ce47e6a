#include "backends.h"

#include <fmt/format.h>

#include "run_options.h"

namespace tdsim::cli {

std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (const host::BackendInfo& b : host::backends()) names.push_back(b.name);
  names.push_back("auto");
  return names;
}

const host::BackendInfo& backend_info(const std::string& name) {
  if (name == "auto") return host::auto_backend();
  if (const host::BackendInfo* b = host::find_backend(name)) return *b;
  throw UsageError(fmt::format("--backend: unknown backend '{}' (choose {})", name,
                               fmt::join(backend_names(), ", ")));
}

std::unique_ptr<Backend> make_backend(const std::string& name, const host::BackendSetup& setup) {
  return backend_info(name).make_backend(setup);
}

std::string unavailable_reason(const host::BackendInfo& info) {
  const std::string why = info.unavailable();
  return why.empty() ? why : fmt::format("{} cannot run on this host: {}", info.name, why);
}

}  // namespace tdsim::cli
