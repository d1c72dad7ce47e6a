// Host side of the conformance suite: builds the conformance guest's image, runs it on
// a backend (on Unicorn with the MRTD device the guest compares TDREPORT.MRTD with),
// collects the guest's per-check lines and prints them as KTAP. Knows every backend
// through cli::make_backend; used by `tdsim conformance` and the tests.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/backend.h"
#include "sim/host_hooks.h"

namespace tdsim::conformance {

struct CheckResult {
  enum class Status { kPass, kFail, kSkip } status = Status::kFail;
  std::string name;
  std::string detail;  // failure reason or skip reason
};

struct SuiteOptions {
  std::string backend = "unicorn";  // unicorn | kvm | kvm-tdx | auto
  uint32_t nr_vcpus = 2;
  uint32_t gpaw = 48;
  RunLimits limits{50'000'000, std::chrono::milliseconds(30'000)};
  // Unicorn only: adjust the TD configuration / host hooks after the runner installed
  // its MRTD device (hostile-host tests).
  std::function<void(sim::TdxConfig&)> configure_unicorn;
};

// The conformance guest's image for these options (what run_suite runs).
TdImage build_suite_image(const SuiteOptions& opts);

struct SuiteResult {
  std::string backend;  // the backend's name()
  std::vector<CheckResult> checks;
  int failures() const;
  int count(CheckResult::Status s) const;
};

// Throws BackendError/LayoutError/UsageError like `tdsim run` would.
SuiteResult run_suite(const SuiteOptions& opts);

// "KTAP version 1", "1..N", "ok N name" / "not ok N name # why" / "ok N name # SKIP why".
void print_ktap(std::FILE* out, const SuiteResult& r);

// Number of failures, capped at 125 (kselftest's exit-code convention).
int exit_code(const SuiteResult& r);

// One guest PRINTF line (without vCPU suffix handling) -> a result; false if the text
// is not a conformance line.
bool parse_check_line(const std::string& text, CheckResult& out);

}  // namespace tdsim::conformance
