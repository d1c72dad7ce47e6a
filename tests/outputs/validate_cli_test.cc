// `tdsim validate` read as a KTAP consumer reads it: one valid document, one test per
// registry backend (each with its five steps nested, the conformance checks nested once
// more), results that agree with what each backend can do here (asked of the registry:
// availability and BackendCaps, as the command does), and an exit code that agrees with
// the results; a broken image makes it fail, a budget makes it time out, bad options are
// usage errors with no report at all.
#include <gtest/gtest.h>

#include <string>

#include "host/registry.h"
#include "tests/outputs/ktap_parser.h"
#include "tests/outputs/tdsim_stdout.h"

namespace tdsim::ktaptest {
namespace {

const char* const kSteps[] = {"probe", "run", "conformance", "diff", "measure"};

const KtapResult* step(const KtapResult& backend, const std::string& name) {
  if (!backend.subtest) return nullptr;
  for (const KtapResult& r : backend.subtest->results)
    if (r.description == name) return &r;
  return nullptr;
}

// The document, checked for shape: valid KTAP, a test per backend in registry order, the
// five steps in order under each.
KtapDocument parse_report(const TdsimRun& r) {
  std::string why;
  EXPECT_TRUE(printable_lines(r.output, &why)) << why << "\n" << r.output;
  KtapDocument d = parse_ktap(r.output);
  EXPECT_TRUE(d.valid()) << describe_problems(d) << r.output;
  const auto& all = host::backends();
  EXPECT_EQ(d.top.plan, static_cast<int>(all.size())) << r.output;
  if (d.top.results.size() != all.size()) {
    ADD_FAILURE() << "one result per backend\n" << r.output;
    return d;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const KtapResult& b = d.top.results[i];
    EXPECT_EQ(b.description, all[i].name);
    if (!b.subtest) {
      ADD_FAILURE() << b.description << ": no steps";
      continue;
    }
    EXPECT_EQ(b.subtest->results.size(), std::size(kSteps));
    for (size_t s = 0; s < std::size(kSteps) && s < b.subtest->results.size(); ++s)
      EXPECT_EQ(b.subtest->results[s].description, kSteps[s]);
  }
  return d;
}

const host::BackendInfo* reference_backend() {
  for (const host::BackendInfo& b : host::backends())
    if (b.caps.in_process_engines && b.unavailable().empty()) return &b;
  return nullptr;
}

TEST(Validate, EveryBackendRunnableHereIsOkAndTheOthersSaySkipWhy) {
  const TdsimRun r = run_tdsim("validate");
  const KtapDocument d = parse_report(r);
  ASSERT_EQ(d.top.results.size(), host::backends().size()) << r.output;
  const host::BackendInfo* reference = reference_backend();
  ASSERT_NE(reference, nullptr) << "the emulator runs everywhere";
  for (size_t i = 0; i < host::backends().size(); ++i) {
    const host::BackendInfo& info = host::backends()[i];
    const KtapResult& b = d.top.results[i];
    SCOPED_TRACE(info.name);
    const std::string why = info.unavailable();
    if (!why.empty()) {
      // e.g. kvm-tdx on a host without TDX: every step and the backend a SKIP saying why.
      EXPECT_TRUE(b.ok);
      EXPECT_EQ(b.directive, "SKIP");
      EXPECT_NE(b.diagnostic.find(why), std::string::npos) << b.diagnostic;
      for (const char* s : kSteps) {
        ASSERT_NE(step(b, s), nullptr) << s;
        EXPECT_EQ(step(b, s)->directive, "SKIP") << s;
        EXPECT_NE(step(b, s)->diagnostic.find("cannot run on this host"), std::string::npos) << s;
      }
      continue;
    }
    EXPECT_TRUE(b.ok) << r.output;
    EXPECT_EQ(b.directive, "") << r.output;
    for (const char* s : {"probe", "run", "conformance"}) {
      ASSERT_NE(step(b, s), nullptr) << s;
      EXPECT_TRUE(step(b, s)->ok) << s;
      EXPECT_EQ(step(b, s)->directive, "") << s;
    }
    // The conformance checks are there, nested: a group per test, a check per subtest.
    const KtapResult* conf = step(b, "conformance");
    ASSERT_NE(conf->subtest, nullptr);
    EXPECT_GT(conf->subtest->results.size(), 10u);
    ASSERT_NE(conf->subtest->results[0].subtest, nullptr);
    // The reference is compared with no one; every other backend that runs is compared
    // with it and agrees.
    const KtapResult* diff = step(b, "diff");
    if (&info == reference) {
      EXPECT_EQ(diff->directive, "SKIP");
      EXPECT_NE(diff->diagnostic.find("reference"), std::string::npos);
    } else {
      EXPECT_TRUE(diff->ok);
      EXPECT_EQ(diff->directive, "") << "compared with " << reference->name;
    }
    // Only a real TD's TDREPORT says anything the prediction does not.
    const KtapResult* measure = step(b, "measure");
    if (!info.caps.real_td) {
      EXPECT_EQ(measure->directive, "SKIP");
      EXPECT_NE(measure->diagnostic.find("not a real TD"), std::string::npos) << measure->diagnostic;
    } else {
      EXPECT_TRUE(measure->ok);
      EXPECT_EQ(measure->directive, "");
    }
  }
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// (On plain KVM the no-PAE stub's two-vCPU conformance run sometimes never ends; the
// step's budget ends it, hence the short --timeout.)
TEST(Validate, ABrokenStubFailsOnEveryBackendThatRunsAndExits1) {
  const TdsimRun r = run_tdsim(std::string("validate --timeout 5 --stub ") + TDSIM_STUB_NO_PAE_BIN);
  const KtapDocument d = parse_report(r);
  ASSERT_EQ(d.top.results.size(), host::backends().size()) << r.output;
  int failed = 0;
  for (size_t i = 0; i < host::backends().size(); ++i) {
    const host::BackendInfo& info = host::backends()[i];
    const KtapResult& b = d.top.results[i];
    SCOPED_TRACE(info.name);
    if (!info.unavailable().empty()) {
      EXPECT_EQ(b.directive, "SKIP");
      continue;
    }
    ++failed;
    EXPECT_FALSE(b.ok) << r.output;
    const KtapResult* run = step(b, "run");
    ASSERT_NE(run, nullptr);
    EXPECT_FALSE(run->ok);
    ASSERT_FALSE(run->diagnostics.empty());
    EXPECT_NE(run->diagnostics.back().find("outcome FAULT, expected DONE"), std::string::npos)
        << run->diagnostics.back();
    // The conformance guest boots through the same stub, so it fails too.
    EXPECT_FALSE(step(b, "conformance")->ok);
  }
  EXPECT_GT(failed, 0);
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

// A guest that never ends: the run step times out within its budget (instructions on
// a backend that counts them, the wall clock elsewhere) and the report still completes.
TEST(Validate, ABudgetEndsEachStepAsATimeout) {
  const TdsimRun r =
      run_tdsim(std::string("validate --max-insns 200000 --timeout 2 --guest ") + TDSIM_GUEST_LOOP_FOREVER_ELF);
  const KtapDocument d = parse_report(r);
  ASSERT_EQ(d.top.results.size(), host::backends().size()) << r.output;
  for (size_t i = 0; i < host::backends().size(); ++i) {
    if (!host::backends()[i].unavailable().empty()) continue;
    const KtapResult* run = step(d.top.results[i], "run");
    ASSERT_NE(run, nullptr);
    EXPECT_FALSE(run->ok) << r.output;
    EXPECT_EQ(run->directive, "TIMEOUT") << r.output;
    EXPECT_FALSE(run->diagnostic.empty());
  }
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST(Validate, BadOptionsAreUsageErrorsBeforeAnyReport) {
  for (const char* args : {"--vcpus 0", "--timeout -1", "--max-insns 0", "--gpaw 47", "--stub /nonexistent/stub.bin",
                           "--no-such-option"}) {
    const TdsimRun r = run_tdsim(std::string("validate ") + args);
    EXPECT_EQ(r.exit_code, 64) << args;
    EXPECT_EQ(r.output, "") << args;
  }
}

}  // namespace
}  // namespace tdsim::ktaptest
