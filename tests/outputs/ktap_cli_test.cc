// The real KTAP of `tdsim run --format ktap` and `tdsim conformance`, read by the strict
// KTAP reader on every backend (a backend this host cannot run must still give valid
// KTAP: the planned tests, each a SKIP, and exit 4): plan matched, directives where
// they belong, exit codes that agree with the results, the fault report as
// diagnostics, and the same conformance numbering on every backend.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "kvm/probe.h"
#include "tests/outputs/ktap_parser.h"
#include "tests/outputs/tdsim_stdout.h"

namespace tdsim::ktaptest {
namespace {

const char* const kBackends[] = {"unicorn", "kvm", "kvm-tdx"};

bool can_run(const std::string& backend) {
  static const kvm::HostProbe probe = kvm::probe_host();
  if (backend == "unicorn") return true;
  const kvm::BackendAvailability* b = probe.backend(backend);
  return b && b->can_run;
}

TdsimRun stdout_of(const std::string& args) { return run_tdsim(args); }

void expect_printable(const std::string& out) {
  std::string why;
  EXPECT_TRUE(printable_lines(out, &why)) << why << " in\n" << out;
}

// What a kselftest runner reads from the exit code must agree with the KTAP results.
void expect_exit_matches_results(int code, const KtapTest& t, const std::string& out) {
  int failed = 0, skipped = 0, timeouts = 0;
  for (const KtapResult& r : t.results) {
    failed += r.failed();
    skipped += r.directive == "SKIP";
    timeouts += r.directive == "TIMEOUT";
  }
  const int n = static_cast<int>(t.results.size());
  switch (code) {
    case 0: EXPECT_EQ(failed, 0) << out; EXPECT_LT(skipped, n) << out; break;
    case 4: EXPECT_EQ(skipped, n) << out; break;
    case 124: EXPECT_GT(timeouts, 0) << out; break;
    case 1:
    case 5: EXPECT_GT(failed, 0) << out; break;
    default: ADD_FAILURE() << "exit " << code << " is not a documented run/conformance code\n" << out;
  }
}

struct RunCase {
  std::string name, args;
  uint32_t vcpus;
  int exit_when_runnable;
};

std::vector<RunCase> run_cases(const std::string& backend) {
  // KVM counts no instructions: its budget is the wall clock.
  const std::string budget = backend == "unicorn" ? "--max-insns 200000" : "--timeout 0.3";
  return {
      {"hello", "", 1, 0},
      {"hello on two vCPUs", "--vcpus 2", 2, 0},
      {"guest assert", std::string("--guest ") + TDSIM_GUEST_ASSERT_ELF, 1, 1},
      {"budget", budget + " --guest " + TDSIM_GUEST_LOOP_FOREVER_ELF, 1, 124},
      {"stub fault", std::string("--stub ") + TDSIM_STUB_NO_PAE_BIN, 1, 5},
  };
}

class KtapOnBackend : public ::testing::TestWithParam<const char*> {};

TEST_P(KtapOnBackend, RunOutputIsValidKtapWithMatchingExitCodes) {
  const std::string backend = GetParam();
  for (const RunCase& c : run_cases(backend)) {
    SCOPED_TRACE(c.name);
    const TdsimRun r = stdout_of("run --format ktap --backend " + backend + " " + c.args);
    expect_printable(r.output);
    const KtapDocument d = parse_ktap(r.output);
    ASSERT_TRUE(d.valid()) << describe_problems(d) << r.output;
    ASSERT_EQ(d.top.plan, static_cast<int>(c.vcpus)) << r.output;
    for (uint32_t v = 0; v < c.vcpus; ++v) EXPECT_EQ(d.top.results[v].description, "vcpu" + std::to_string(v));
    EXPECT_EQ(r.exit_code, can_run(backend) ? c.exit_when_runnable : 4) << r.output;
    expect_exit_matches_results(r.exit_code, d.top, r.output);
    if (!can_run(backend)) {
      for (const KtapResult& res : d.top.results) EXPECT_FALSE(res.diagnostic.empty()) << "a SKIP says why";
      continue;
    }
    if (c.exit_when_runnable == 5) {
      // The fault and its report are diagnostics; the reason sits right before the result.
      const KtapResult& res = d.top.results[0];
      ASSERT_FALSE(res.diagnostics.empty()) << r.output;
      EXPECT_EQ(res.diagnostics.back().rfind("vcpu0 failed: vcpu 0: ", 0), 0u) << r.output;
      EXPECT_NE(r.output.find("\n#   vCPU 0: "), std::string::npos) << "the report, indented\n" << r.output;
      // Both backends shut down at the stub's MOV to CR0 and name the same cause
      // (tests/broken/broken_cause_table_test.cc).
      EXPECT_EQ(res.diagnostics.back().rfind("vcpu0 failed: vcpu 0: triple fault at rip 0xffffffdf", 0), 0u)
          << r.output;
      EXPECT_NE(r.output.find("\n#     cause [cr4-pae-missing] boot_params.cr4:"), std::string::npos) << r.output;
    }
  }
}

// Two levels: a test per group, a nested test per check. Returns "group/n check" per
// check, for comparing numbering across backends.
std::vector<std::string> conformance_numbering(const KtapDocument& d) {
  std::vector<std::string> out;
  for (const KtapResult& g : d.top.results) {
    EXPECT_NE(g.subtest, nullptr) << g.description;
    if (!g.subtest) continue;
    for (const KtapResult& c : g.subtest->results)
      out.push_back(std::to_string(g.number) + " " + g.description + "/" + std::to_string(c.number) + " " + c.description);
  }
  return out;
}

TEST_P(KtapOnBackend, ConformanceIsNestedKtapWithKselftestExitCodes) {
  const std::string backend = GetParam();
  const TdsimRun r = stdout_of("conformance --backend " + backend);
  expect_printable(r.output);
  const KtapDocument d = parse_ktap(r.output);
  ASSERT_TRUE(d.valid()) << describe_problems(d) << r.output;
  expect_exit_matches_results(r.exit_code, d.top, r.output);
  const int all_checks = static_cast<int>(conformance_numbering(d).size());
  int failed = 0, skipped = 0;
  for (const KtapResult& g : d.top.results)
    if (g.subtest)
      for (const KtapResult& c : g.subtest->results) failed += c.failed(), skipped += c.directive == "SKIP";
  EXPECT_EQ(r.exit_code, failed > 0 ? 1 : skipped == all_checks ? 4 : 0) << r.output;
  if (!can_run(backend)) EXPECT_EQ(r.exit_code, 4) << r.output;
  else EXPECT_EQ(r.exit_code, 0) << "every check passes or skips where the backend runs\n" << r.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, KtapOnBackend, ::testing::ValuesIn(kBackends),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::erase(n, '-');
                           return n;
                         });

TEST(KtapConformance, NumberingIsTheSameOnEveryBackend) {
  std::map<std::string, std::vector<std::string>> numbering;
  for (const char* b : kBackends) {
    const TdsimRun r = stdout_of(std::string("conformance --backend ") + b);
    const KtapDocument d = parse_ktap(r.output);
    ASSERT_TRUE(d.valid()) << b << "\n" << describe_problems(d);
    numbering[b] = conformance_numbering(d);
    ASSERT_GT(numbering[b].size(), 80u) << b;
  }
  EXPECT_EQ(numbering["unicorn"], numbering["kvm"]);
  EXPECT_EQ(numbering["unicorn"], numbering["kvm-tdx"]);
}

}  // namespace
}  // namespace tdsim::ktaptest
