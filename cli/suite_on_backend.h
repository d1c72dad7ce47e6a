// The conformance suite on one registry backend, as `tdsim conformance` and
// `tdsim validate` both run it: on a backend this host cannot run, every check is a
// SKIP with the reason, numbered as where it runs.
#pragma once
#include "conformance/runner.h"
#include "host/registry.h"

namespace tdsim::cli {

// Builds the suite image first, so bad options are usage errors (LayoutError) on every
// host, runnable or not. Throws what run_suite throws (BackendError, ...).
conformance::SuiteResult suite_on_backend(const host::BackendInfo& info, const conformance::SuiteOptions& opts);

}  // namespace tdsim::cli
