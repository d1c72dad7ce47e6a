// The validate report without running anything: the measure step's rule (only a real
// TD's TDREPORT is compared, through the conformance guest's MRTD check), the exit code
// over every combination that matters, and printed reports — hostile reasons included —
// that the strict KTAP reader accepts with the statuses they were given.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/validate_report.h"
#include "tests/outputs/ktap_parser.h"

namespace tdsim::cli {
namespace {

using Status = StepResult::Status;
using CheckStatus = conformance::CheckResult::Status;

StepResult step(const char* name, Status st, std::string reason = {}) {
  StepResult s;
  s.name = name;
  s.status = st;
  s.reason = std::move(reason);
  return s;
}

StepResult conformance_with_mrtd_check(CheckStatus st, const std::string& detail) {
  conformance::SuiteResult suite;
  suite.backend = "td";
  suite.checks.push_back({CheckStatus::kPass, "boot.guest_config", "", "boot"});
  suite.checks.push_back({st, conformance::kMrtdCheck, detail, "mr_report"});
  return conformance_step(suite);
}

std::string print(const std::vector<BackendReport>& reports) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  print_validate_header(f, reports.size(), {"header\nnote"});
  for (size_t i = 0; i < reports.size(); ++i) print_backend_report(f, i + 1, reports[i]);
  print_validate_totals(f, reports);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TEST(ValidateMeasure, WithoutARealTdItIsASkipSayingWhy) {
  const StepResult m =
      measure_step(host::BackendCaps{}, "emu", conformance_with_mrtd_check(CheckStatus::kPass, ""), "ab");
  EXPECT_EQ(m.status, Status::kSkip);
  EXPECT_NE(m.reason.find("emu is not a real TD"), std::string::npos) << m.reason;
}

TEST(ValidateMeasure, OnARealTdItIsTheLiveMrtdCheck) {
  host::BackendCaps td;
  td.real_td = true;
  const StepResult pass = measure_step(td, "td", conformance_with_mrtd_check(CheckStatus::kPass, ""), "ab12");
  EXPECT_EQ(pass.status, Status::kPass);
  ASSERT_FALSE(pass.notes.empty());
  EXPECT_NE(pass.notes[0].find("ab12"), std::string::npos) << "the prediction is shown";
  const StepResult fail =
      measure_step(td, "td", conformance_with_mrtd_check(CheckStatus::kFail, "MRTD word 0 differs"), "ab12");
  EXPECT_EQ(fail.status, Status::kFail);
  EXPECT_EQ(fail.reason, "MRTD word 0 differs");
  const StepResult skip =
      measure_step(td, "td", conformance_with_mrtd_check(CheckStatus::kSkip, "no MRTD device"), "ab12");
  EXPECT_EQ(skip.status, Status::kSkip);
  // The conformance run erred: no check to read, the measure step says why.
  const StepResult err = measure_step(td, "td", step("conformance", Status::kError, "ioctl failed"), "ab12");
  EXPECT_EQ(err.status, Status::kError);
  EXPECT_NE(err.reason.find("ioctl failed"), std::string::npos);
  // A suite without the check (it was renamed?) fails rather than passing unseen.
  conformance::SuiteResult other;
  other.checks.push_back({CheckStatus::kPass, "boot.guest_config", "", "boot"});
  EXPECT_EQ(measure_step(td, "td", conformance_step(other), "ab12").status, Status::kFail);
}

TEST(ValidateExit, ErrorThenFailureThenAllSkippedThenPass) {
  const BackendReport pass{"a", {step("probe", Status::kPass), step("diff", Status::kSkip, "ref")}};
  const BackendReport skip{"b", {step("probe", Status::kSkip, "no"), step("run", Status::kSkip, "no")}};
  const BackendReport fail{"c", {step("run", Status::kFail, "FAULT")}};
  const BackendReport timeout{"d", {step("run", Status::kTimeout, "budget")}};
  const BackendReport error{"e", {step("run", Status::kError, "ioctl")}};
  EXPECT_EQ(validate_exit_code({pass, skip}), 0);
  EXPECT_EQ(validate_exit_code({skip, skip}), 4);
  EXPECT_EQ(validate_exit_code({pass, fail}), 1);
  EXPECT_EQ(validate_exit_code({pass, timeout}), 1);
  EXPECT_EQ(validate_exit_code({fail, error, pass}), 70);
}

TEST(ValidatePrint, HostileTextStaysInsideItsLinesAndTheStatusesSurvive) {
  const std::string forged = "x\nok 9 forged\n# Subtest: y\r\x1b[2J # SKIP";
  StepResult run = step("run", Status::kFail, forged);
  run.notes = {forged};
  BackendReport a{"a#b\nok 1", {step("probe", Status::kPass), run, step("diff", Status::kTimeout, forged)}};
  BackendReport b{"b", {step("probe", Status::kSkip, forged), step("run", Status::kSkip, forged)}};
  BackendReport c{"c", {step("probe", Status::kPass), step("run", Status::kError, forged),
                        conformance_with_mrtd_check(CheckStatus::kFail, forged)}};
  const std::string out = print({a, b, c});
  const ktaptest::KtapDocument d = ktaptest::parse_ktap(out);
  ASSERT_TRUE(d.valid()) << ktaptest::describe_problems(d) << out;
  ASSERT_EQ(d.top.results.size(), 3u) << out;
  EXPECT_FALSE(d.top.results[0].ok);
  EXPECT_EQ(d.top.results[1].directive, "SKIP");
  EXPECT_FALSE(d.top.results[2].ok);
  const auto& steps_a = d.top.results[0].subtest->results;
  ASSERT_EQ(steps_a.size(), 3u);
  EXPECT_TRUE(steps_a[0].ok);
  EXPECT_FALSE(steps_a[1].ok);
  EXPECT_EQ(steps_a[1].directive, "");
  EXPECT_EQ(steps_a[2].directive, "TIMEOUT");
  const auto& steps_c = d.top.results[2].subtest->results;
  ASSERT_EQ(steps_c.size(), 3u);
  EXPECT_EQ(steps_c[1].directive, "ERROR");
  // The conformance step nests its groups, and the groups their checks.
  ASSERT_NE(steps_c[2].subtest, nullptr) << out;
  ASSERT_EQ(steps_c[2].subtest->results.size(), 2u) << out;
  EXPECT_NE(steps_c[2].subtest->results[1].subtest, nullptr);
  EXPECT_FALSE(steps_c[2].subtest->results[1].ok);
  EXPECT_NE(out.find("# Totals: pass:2 fail:4 skip:2\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace tdsim::cli
