#include "validate_report.h"

#include <fmt/format.h>

#include "core/outcome.h"
#include "core/text_escape.h"
#include "event_printer.h"

namespace tdsim::cli {

namespace {

using Status = StepResult::Status;

// Every text that reaches the output is escaped, '#' too where it stands in a
// description (it would start KTAP's directive).
void print_step(std::FILE* out, size_t number, const StepResult& s) {
  const std::string name = escape_text(s.name, '#');
  for (const std::string& n : s.notes) fmt::print(out, "  # {}\n", escape_text(n));
  if (s.suite) {
    fmt::print(out, "    KTAP version 1\n    # Subtest: {}\n", name);
    conformance::print_ktap_body(out, *s.suite, 4);
  }
  const std::string why = escape_text(s.reason);
  switch (s.status) {
    case Status::kPass: fmt::print(out, "  ok {} {}\n", number, name); break;
    case Status::kSkip: fmt::print(out, "  ok {} {} # SKIP {}\n", number, name, why); break;
    case Status::kFail:
      // Why, as a diagnostic right before the result (KTAP's place for it).
      if (!why.empty()) fmt::print(out, "  # {}: {}\n", name, why);
      fmt::print(out, "  not ok {} {}\n", number, name);
      break;
    case Status::kTimeout: fmt::print(out, "  not ok {} {} # TIMEOUT {}\n", number, name, why); break;
    case Status::kError: fmt::print(out, "  not ok {} {} # ERROR {}\n", number, name, why); break;
  }
}

}  // namespace

StepResult skipped_step(std::string name, std::string reason) {
  StepResult s;
  s.name = std::move(name);
  s.status = Status::kSkip;
  s.reason = std::move(reason);
  return s;
}

StepResult conformance_step(conformance::SuiteResult suite) {
  StepResult s;
  s.name = "conformance";
  const int code = conformance::exit_code(suite);
  const int checks = static_cast<int>(suite.checks.size());
  if (code == kExitSkip) {
    s.status = Status::kSkip;
    s.reason = suite.checks.empty() ? "no checks" : suite.checks.front().detail;
  } else if (suite.failures() > 0) {
    s.status = Status::kFail;
    s.reason = fmt::format("{} of {} checks failed", suite.failures(), checks);
  } else {
    s.status = Status::kPass;
  }
  s.suite = std::move(suite);
  return s;
}

StepResult measure_step(const host::BackendCaps& caps, const std::string& backend, const StepResult& conformance,
                        const std::string& predicted_hex) {
  if (!caps.real_td)
    return skipped_step("measure", fmt::format("{} is not a real TD: its TDREPORT comes from tdsim's TDX module, "
                                               "which fills MRTD with the prediction itself",
                                               backend));
  if (conformance.status == Status::kSkip) return skipped_step("measure", conformance.reason);
  StepResult s;
  s.name = "measure";
  s.notes.push_back("predicted MRTD of the conformance image: " + predicted_hex);
  const conformance::CheckResult* check = nullptr;
  if (conformance.suite)
    for (const conformance::CheckResult& c : conformance.suite->checks)
      if (c.name == conformance::kMrtdCheck) check = &c;
  if (!check) {
    s.status = conformance.status == Status::kError ? Status::kError : Status::kFail;
    s.reason = conformance.suite ? fmt::format("the conformance run has no {} check", conformance::kMrtdCheck)
                                 : "the conformance run did not complete: " + conformance.reason;
    return s;
  }
  using CS = conformance::CheckResult::Status;
  s.status = check->status == CS::kPass ? Status::kPass : check->status == CS::kSkip ? Status::kSkip : Status::kFail;
  s.reason = check->detail;
  if (s.status == Status::kPass) s.notes.push_back("TDREPORT.MRTD from TDG.MR.REPORT matches it");
  return s;
}

void print_validate_header(std::FILE* out, size_t nr_backends, const std::vector<std::string>& notes) {
  fmt::print(out, "KTAP version 1\n");
  for (const std::string& n : notes) fmt::print(out, "# {}\n", escape_text(n));
  fmt::print(out, "1..{}\n", nr_backends);
  flush_output(out);
}

void print_backend_report(std::FILE* out, size_t number, const BackendReport& r) {
  const std::string name = escape_text(r.backend, '#');
  fmt::print(out, "  KTAP version 1\n  # Subtest: {}\n  1..{}\n", name, r.steps.size());
  bool failed = false, all_skipped = true;
  std::string skip_reason;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const StepResult& s = r.steps[i];
    print_step(out, i + 1, s);
    failed = failed || s.failed();
    all_skipped = all_skipped && s.status == Status::kSkip;
    if (s.status == Status::kSkip && skip_reason.empty()) skip_reason = escape_text(s.reason);
  }
  if (failed)
    fmt::print(out, "not ok {} {}\n", number, name);
  else if (all_skipped)
    fmt::print(out, "ok {} {} # SKIP {}\n", number, name, skip_reason);
  else
    fmt::print(out, "ok {} {}\n", number, name);
  flush_output(out);
}

void print_validate_totals(std::FILE* out, const std::vector<BackendReport>& reports) {
  int pass = 0, fail = 0, skip = 0;
  for (const BackendReport& r : reports)
    for (const StepResult& s : r.steps) {
      pass += s.status == Status::kPass;
      fail += s.failed();
      skip += s.status == Status::kSkip;
    }
  fmt::print(out, "# Totals: pass:{} fail:{} skip:{}\n", pass, fail, skip);
  flush_output(out);
}

int validate_exit_code(const std::vector<BackendReport>& reports) {
  bool error = false, failed = false, all_skipped = true;
  for (const BackendReport& r : reports)
    for (const StepResult& s : r.steps) {
      error = error || s.status == Status::kError;
      failed = failed || s.failed();
      all_skipped = all_skipped && s.status == Status::kSkip;
    }
  if (error) return kExitBackend;
  if (failed) return kExitGuestAssert;  // kselftest's plain failure
  if (all_skipped) return kExitSkip;
  return kExitDone;
}

}  // namespace tdsim::cli
