// The report of `tdsim validate`: for each backend its steps (probe, run, conformance,
// diff, measure) and their results, printed as one KTAP v1 document — one test per
// backend, its steps a nested subtest, the conformance checks nested once more — and
// the exit code they give. Knows steps and results; of a backend only its name and
// BackendCaps.
#pragma once
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "conformance/runner.h"
#include "host/registry.h"

namespace tdsim::cli {

struct StepResult {
  enum class Status {
    kPass,
    kFail,
    kSkip,     // could not be run here, or means nothing on this backend (the reason says which)
    kTimeout,  // a budget ran out (a failure: KTAP "not ok ... # TIMEOUT")
    kError,    // the backend failed (engine or ioctl error; KTAP "not ok ... # ERROR")
  };
  std::string name;
  Status status = Status::kFail;
  std::string reason;              // why it failed, timed out, erred or was skipped (raw)
  std::vector<std::string> notes;  // diagnostic lines printed before the result (raw)
  std::optional<conformance::SuiteResult> suite;  // the conformance step: its checks, nested

  bool failed() const { return status == Status::kFail || status == Status::kTimeout || status == Status::kError; }
};

struct BackendReport {
  std::string backend;
  std::vector<StepResult> steps;
};

StepResult skipped_step(std::string name, std::string reason);

// The conformance step from the suite's result: fail if a check failed, skip if every
// check was skipped, else pass.
StepResult conformance_step(conformance::SuiteResult suite);

// The measure step. Only a real TD (caps.real_td) has a TDREPORT that the TDX module
// wrote, so only there does the MRTD in it say anything the prediction does not: the
// result is then the conformance guest's check (conformance::kMrtdCheck) that compares
// the live TDREPORT.MRTD with `predicted_hex` (`tdsim measure` of the suite image).
// Elsewhere tdsim's own TDX module fills TDREPORT.MRTD with that same prediction: a
// SKIP saying so.
StepResult measure_step(const host::BackendCaps& caps, const std::string& backend,
                        const StepResult& conformance, const std::string& predicted_hex);

// Version line, `notes` as diagnostics, and the plan (one test per backend).
void print_validate_header(std::FILE* out, size_t nr_backends, const std::vector<std::string>& notes);
// One backend: its steps as a subtest, then its result line numbered `number`: not ok
// if a step failed, a SKIP if every step was skipped (with the first reason), else ok.
void print_backend_report(std::FILE* out, size_t number, const BackendReport& r);
// A "# Totals:" diagnostic over every step of every backend.
void print_validate_totals(std::FILE* out, const std::vector<BackendReport>& reports);

// 70 when a step erred (the backend failed), else 1 when one failed or timed out, else
// 4 when every step of every backend was skipped, else 0.
int validate_exit_code(const std::vector<BackendReport>& reports);

}  // namespace tdsim::cli
