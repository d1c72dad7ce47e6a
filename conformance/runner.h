// Host side of the conformance suite: builds the conformance guest's image, runs it on
// any backend with the MRTD device (the host's prediction the guest compares
// TDREPORT.MRTD with), collects the guest's per-check lines and prints them as KTAP.
// Knows no particular backend; used by `tdsim conformance` and the tests.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/backend.h"

namespace tdsim::conformance {

struct CheckResult {
  enum class Status { kPass, kFail, kSkip } status = Status::kFail;
  std::string name;
  std::string detail;  // failure reason or skip reason (raw: printers escape it)
  std::string group;   // the KTAP subtest it is printed in (catalogue.h)
};

struct SuiteOptions {
  uint32_t nr_vcpus = 2;
  uint32_t gpaw = 48;
  std::vector<uint8_t> stub;  // a boot stub blob to boot the guest with; empty: built-in
  std::string stub_name;      // for messages about it
  RunLimits limits{50'000'000, std::chrono::milliseconds(30'000)};
};

// vCPU 0's check of TDREPORT.MRTD (TDG.MR.REPORT, live) against the host's prediction
// (mrtd_device(): `tdsim measure`'s computation for the suite image).
inline constexpr const char* kMrtdCheck = "mr_report.mrtd_matches_host_prediction";

// The conformance guest's image for these options (what run_suite runs).
TdImage build_suite_image(const SuiteOptions& opts);

// The MMIO device at image.ucall_mmio_gpa + kMrtdDeviceOffset (conformance_abi.h) that
// offers the MRTD the host predicts for `image` (bootstub/measure).
MmioReadHandler mrtd_device(const TdImage& image);

struct SuiteResult {
  std::string backend;  // the backend's name()
  std::vector<CheckResult> checks;  // catalogue order, then any check the catalogue lacks
  int failures() const;
  int count(CheckResult::Status s) const;
};

// Builds the suite image, installs mrtd_device() on `backend` and runs it there.
// Throws BackendError/LayoutError like `tdsim run` would.
SuiteResult run_suite(Backend& backend, const SuiteOptions& opts);

// Runs an already built suite image on `backend` as it is configured (a test may have
// installed a wrapped or hostile MRTD device; without one that check skips).
SuiteResult run_suite(Backend& backend, const TdImage& image, const RunLimits& limits);

// The result of `backend` not being able to run here: every catalogue check a SKIP
// with `reason`, so the numbering is the same as where it runs.
SuiteResult skipped_suite(const std::string& backend, uint32_t nr_vcpus, const std::string& reason);

// KTAP v1 (a version line, a line naming the backend, then print_ktap_body()).
void print_ktap(std::FILE* out, const SuiteResult& r);

// The plan and the results of print_ktap, every line indented by `indent` spaces, for a
// report that nests the suite as a subtest of its own (after its version and
// "# Subtest:" lines). The top level has one test per group (its checks as a nested subtest, two
// spaces deeper, each "ok N check", "not ok N check" after a "# check: why" diagnostic,
// or "ok N check # SKIP why"); a group fails if a check fails and is a SKIP if all of
// its checks are. A "# Totals:" diagnostic ends it. Guest text is escaped
// (core/text_escape.h).
void print_ktap_body(std::FILE* out, const SuiteResult& r, size_t indent = 0);

// kselftest's codes: 1 when a check failed, else 4 when every check was skipped, else 0.
int exit_code(const SuiteResult& r);

// One guest PRINTF line (without vCPU suffix handling) -> a result; false if the text
// is not a conformance line.
bool parse_check_line(const std::string& text, CheckResult& out);

}  // namespace tdsim::conformance
