// A guest whose strings are not UTF-8 and carry terminal controls and forged result
// lines (tests/hostile/guests/output_bytes.cc), run through the real CLI in text, JSON
// and KTAP on every backend that runs here: the host must not abort, must print only
// printable ASCII (so nothing reaches a terminal raw and no line is forged), must keep
// every byte (the JSON strings decode back to exactly what the guest sent), and exits 1
// (vCPU 1's assert).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text_escape.h"
#include "kvm/probe.h"
#include "tests/hostile/hostile_keys.h"
#include "tests/outputs/ktap_parser.h"
#include "tests/outputs/tdsim_stdout.h"

namespace tdsim::ktaptest {
namespace {

namespace hk = test::hostile;

class HostileOutput : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "kvm") {
      const kvm::HostProbe p = kvm::probe_host();
      if (!p.backend("kvm")->can_run) GTEST_SKIP() << "plain KVM unusable: " << p.backend("kvm")->reason;
    }
  }
  TdsimRun run(const std::string& format) {
    return run_tdsim(std::string("run --vcpus 4 --format ") + format + " --backend " + GetParam() + " --guest " +
                     TDSIM_HOSTILE_OUTPUT_BYTES_ELF);
  }
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void expect_printable(const std::string& out) {
  std::string why;
  EXPECT_TRUE(printable_lines(out, &why)) << why << " in\n" << out;
}

TEST_P(HostileOutput, TextIsEscapedAndNoLineIsForged) {
  const TdsimRun r = run("text");
  ASSERT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_printable(r.output);
  EXPECT_NE(r.output.find("vcpu 0: ucall PRINTF: " + escape_text(hk::kHostileText) + "\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(escape_text(hk::kHostileFile) + ":42: " + escape_text(hk::kHostileExpr) + ": " +
                          escape_text(hk::kHostileText)),
            std::string::npos)
      << r.output;
  const auto lines = lines_of(r.output);
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_NE(lines[i].rfind("tdsim:", 0), 0u) << lines[i];
  EXPECT_EQ(lines.back().rfind("tdsim: GUEST_ASSERT on ", 0), 0u) << r.output;
  if (std::string(GetParam()) == "unicorn") {  // only the TDX module stand-in takes ReportFatalError
    EXPECT_NE(r.output.find(R"(: "\x1b\x1b]0;\xff\x0d\x0aok+1\x07\\\xc3(")"), std::string::npos) << r.output;
  }
}

TEST_P(HostileOutput, JsonIsValidUtf8AndDecodesToTheGuestsBytes) {
  const TdsimRun r = run("json");
  ASSERT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_printable(r.output);
  std::vector<nlohmann::json> recs;
  for (const std::string& l : lines_of(r.output)) recs.push_back(nlohmann::json::parse(l));
  ASSERT_GE(recs.size(), 3u) << r.output;
  EXPECT_EQ(recs.front()["type"], "header");
  EXPECT_EQ(recs.back()["type"], "summary");
  EXPECT_EQ(recs.back()["exit_code"], 1);
  int printf_seen = 0, abort_seen = 0;
  for (const nlohmann::json& j : recs) {
    if (j["type"] != "ucall") continue;
    if (j["cmd"] == "PRINTF") {
      ++printf_seen;
      EXPECT_EQ(unescape_text(j["text"].get<std::string>()), std::string(hk::kHostileText));
    } else if (j["cmd"] == "ABORT") {
      ++abort_seen;
      EXPECT_EQ(unescape_text(j["text"].get<std::string>()), std::string(hk::kHostileText));
      EXPECT_EQ(unescape_text(j["assert"]["expr"].get<std::string>()), std::string(hk::kHostileExpr));
      EXPECT_EQ(unescape_text(j["assert"]["file"].get<std::string>()), std::string(hk::kHostileFile));
      EXPECT_EQ(j["assert"]["line"], fmt::format("{:#x}", hk::kHostileLine));
    }
  }
  EXPECT_EQ(printf_seen, 1) << r.output;
  EXPECT_EQ(abort_seen, 1) << r.output;
}

TEST_P(HostileOutput, KtapHasExactlyThePlannedResults) {
  const TdsimRun r = run("ktap");
  ASSERT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_printable(r.output);
  const KtapDocument d = parse_ktap(r.output);
  ASSERT_TRUE(d.valid()) << describe_problems(d) << r.output;
  ASSERT_EQ(d.top.results.size(), 4u) << r.output;
  EXPECT_TRUE(d.top.results[0].ok) << r.output;
  for (size_t v = 1; v < 4; ++v) EXPECT_FALSE(d.top.results[v].ok) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileOutput, ::testing::Values("unicorn", "kvm"));

}  // namespace
}  // namespace tdsim::ktaptest
