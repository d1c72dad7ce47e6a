#include "suite_on_backend.h"

#include "backends.h"

namespace tdsim::cli {

conformance::SuiteResult suite_on_backend(const host::BackendInfo& info, const conformance::SuiteOptions& opts) {
  (void)conformance::build_suite_image(opts);
  const std::unique_ptr<Backend> b = info.make_backend({});
  if (const std::string why = unavailable_reason(info); !why.empty())
    return conformance::skipped_suite(b->name(), opts.nr_vcpus, why);
  return conformance::run_suite(*b, opts);
}

}  // namespace tdsim::cli
