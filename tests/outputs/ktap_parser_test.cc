// The KTAP reader itself: it accepts ktap.rst's own shapes and refuses each broken rule,
// so the output tests that rely on it can fail.
#include "ktap_parser.h"

#include <gtest/gtest.h>

namespace tdsim::ktaptest {
namespace {

TEST(KtapParser, AcceptsNestedResultsDirectivesAndDiagnostics) {
  const KtapDocument d = parse_ktap(
      "KTAP version 1\n"
      "1..2\n"
      "  KTAP version 1\n"
      "  # Subtest: group\n"
      "  1..3\n"
      "  ok 1 a\n"
      "  # b: went wrong\n"
      "  not ok 2 b\n"
      "  ok 3 c # SKIP no device\n"
      "not ok 1 group\n"
      "not ok 2 slow # TIMEOUT budget exceeded\n"
      "# Totals: pass:1\n");
  ASSERT_TRUE(d.valid()) << describe_problems(d);
  ASSERT_EQ(d.top.plan, 2);
  const KtapResult& g = d.top.results[0];
  EXPECT_FALSE(g.ok);
  EXPECT_EQ(g.description, "group");
  ASSERT_NE(g.subtest, nullptr);
  ASSERT_EQ(g.subtest->results.size(), 3u);
  EXPECT_EQ(g.subtest->results[1].diagnostics, std::vector<std::string>{"b: went wrong"});
  EXPECT_EQ(g.subtest->results[2].directive, "SKIP");
  EXPECT_EQ(g.subtest->results[2].diagnostic, "no device");
  EXPECT_EQ(d.top.results[1].directive, "TIMEOUT");
  EXPECT_EQ(d.trailing_diagnostics, std::vector<std::string>{"Totals: pass:1"});
}

TEST(KtapParser, DiagnosticDataWithoutDirective) {
  const KtapDocument d = parse_ktap("KTAP version 1\n1..1\nok 1 check return code # rcode=0\n");
  ASSERT_TRUE(d.valid()) << describe_problems(d);
  EXPECT_EQ(d.top.results[0].description, "check return code");
  EXPECT_EQ(d.top.results[0].directive, "");
  EXPECT_EQ(d.top.results[0].diagnostic, "rcode=0");
}

TEST(KtapParser, RefusesEachBrokenRule) {
  const char* const broken[] = {
      "1..1\nok 1 a\n",                                    // no version line
      "KTAP version 1\nok 1 a\n",                          // no plan
      "KTAP version 1\n1..2\nok 1 a\n",                    // plan not matched
      "KTAP version 1\n1..2\nok 1 a\nok 3 b\n",            // numbering skips
      "KTAP version 1\n1..1\nok 1 a # TIMEOUT 30 s\n",     // TIMEOUT on ok
      "KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  not ok 1 x\nok 1 parent\n",  // ok over a failure
      "KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\n",                   // no parent result
      "KTAP version 1\n1..1\nok 1 a\nok 1 vcpu0 forged\n",  // an extra result line
      "KTAP version 1\n1..1\nstray text\nok 1 a\n",        // unknown line
      "KTAP version 1\n1..1\n   ok 1 a\n",                 // odd indentation
  };
  for (const char* text : broken) EXPECT_FALSE(parse_ktap(text).valid()) << text;
}

}  // namespace
}  // namespace tdsim::ktaptest
