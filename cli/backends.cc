#include "backends.h"

#include <fmt/format.h>

#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "kvm/tdx_backend.h"
#include "run_options.h"
#include "sim/unicorn_backend.h"

namespace tdsim::cli {

std::vector<std::string> backend_names() { return {"unicorn", "kvm", "kvm-tdx", "auto"}; }

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "unicorn") return std::make_unique<UnicornBackend>();
  if (name == "kvm") return std::make_unique<KvmBackend>();
  if (name == "kvm-tdx") return std::make_unique<TdxBackend>();
  if (name == "auto") return make_backend(probe_host().tdx_usable ? "kvm-tdx" : "unicorn");
  throw UsageError(fmt::format("--backend: unknown backend '{}' (choose unicorn, kvm, kvm-tdx or auto)", name));
}

std::string unavailable_reason(const Backend& backend) {
  const std::string name = backend.name();
  if (name != "kvm" && name != "kvm-tdx") return "";  // the emulator needs nothing from the host
  const kvm::HostProbe probe = probe_host();
  const kvm::BackendAvailability* b = probe.backend(name);
  if (!b) return fmt::format("the host probe does not know backend '{}'", name);
  return b->can_run ? "" : fmt::format("{} cannot run on this host: {}", name, b->reason);
}

}  // namespace tdsim::cli
