// `tdsim run` on broken stubs, end to end: the fault report under the fault line, lint
// findings on stderr before the run (which still happens), JSON lines, traces in their
// own file, stub coverage, colour only on a terminal and never with NO_COLOR.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/run_command.h"

namespace {

std::string stdout_only(const std::string& cmd) {
  CommandResult r = run_command("{ " + cmd + " 2>/dev/null; }");
  return r.output;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CliExplain, NoPaeStubReportNamesLabelRuleAndField) {
  CommandResult r = run_command(tdsim(std::string("run --stub ") + TDSIM_STUB_NO_PAE_BIN));
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("vcpu 0: triple fault at rip 0xffffffdf"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  vCPU 0: triple fault (last exception #GP) at RIP 0xffffffdf <td_boot_enable_paging>"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("cause [cr4-pae-missing] boot_params.cr4:"), std::string::npos) << r.output;
}

TEST(CliExplain, LintFindingsGoToStderrAndTheRunStillHappens) {
  const std::string cmd = tdsim(std::string("run --stub ") + TDSIM_BROKEN_BAD_LJMP_BIN);
  CommandResult both = run_command(cmd);
  // The far jump's #PF reaches the guest's IDT, whose stub reports it (UNHANDLED).
  EXPECT_EQ(both.exit_code, 1) << both.output;
  const size_t lint = both.output.find("tdsim lint: error: stub: far jump target 0x80000000");
  const size_t fault = both.output.find("vcpu 0: ucall UNHANDLED");
  ASSERT_NE(lint, std::string::npos) << both.output;
  ASSERT_NE(fault, std::string::npos) << both.output;
  EXPECT_LT(lint, fault) << "lint runs before booting";
  EXPECT_EQ(stdout_only(cmd).find("tdsim lint"), std::string::npos) << "lint is not on stdout";
}

// Lint errors are a kselftest failure (1), not 2 (which the runner reads as XFAIL).
TEST(CliExplain, LintErrorsExitOne) {
  CommandResult r = run_command(tdsim(std::string("lint --stub ") + TDSIM_BROKEN_BAD_LJMP_BIN));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error: stub: far jump target 0x80000000"), std::string::npos) << r.output;
}

TEST(CliExplain, JsonLinesEndWithSummary) {
  const std::string out = stdout_only(tdsim(std::string("run --format json --stub ") + TDSIM_STUB_NO_PAE_BIN));
  std::istringstream in(out);
  std::string line;
  std::vector<nlohmann::json> recs;
  while (std::getline(in, line)) recs.push_back(nlohmann::json::parse(line));  // throws on a bad line
  ASSERT_EQ(recs.size(), 3u) << out;
  EXPECT_EQ(recs[0]["type"], "header");
  EXPECT_EQ(recs[0]["schema"], 2);
  EXPECT_EQ(recs[1]["type"], "fault");
  EXPECT_EQ(recs[1]["vector"], 13);
  EXPECT_FALSE(recs[1]["explanation"].empty());
  EXPECT_EQ(recs[2]["type"], "summary");
  EXPECT_EQ(recs[2]["exit_code"], 5);
}

TEST(CliExplain, TraceGoesToItsFileNotStdout) {
  const std::string path = std::filesystem::temp_directory_path() / "tdsim_explain_trace.txt";
  const std::string out = stdout_only(tdsim("run --trace boot,tdcall,ucall --trace-file " + path));
  const std::string trace = read_text(path);
  std::filesystem::remove(path);
  EXPECT_NE(out.find("tdsim: DONE"), std::string::npos) << out;
  EXPECT_EQ(out.find("boot "), std::string::npos) << out;
  EXPECT_NE(trace.find("vcpu 0 boot CR0 0x21 -> 0x80000021"), std::string::npos) << trace;
  EXPECT_NE(trace.find("vcpu 0 boot jump to guest_code"), std::string::npos) << trace;
  EXPECT_NE(trace.find("vcpu 0 tdcall"), std::string::npos) << trace;
  EXPECT_NE(trace.find("vcpu 0 ucall DONE"), std::string::npos) << trace;
}

TEST(CliExplain, CoverageShowsWhatTheFaultingStubNeverRan) {
  CommandResult r = run_command(tdsim(std::string("run --coverage --stub ") + TDSIM_STUB_NO_PAE_BIN));
  EXPECT_NE(r.output.find("td_boot_enable_paging:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("+ 0xffffffdf: 0f 22 c7"), std::string::npos) << "the faulting MOV was reached\n" << r.output;
  EXPECT_NE(r.output.find("- 0xffffffe2: 0f 01 5b 12"), std::string::npos) << "the LIDT never ran\n" << r.output;
  EXPECT_NE(r.output.find("- 0xffffffe6: ea"), std::string::npos) << "the far jump never ran\n" << r.output;
}

TEST(CliExplain, ColourOnlyOnATerminalAndNeverWithNoColor) {
  EXPECT_EQ(run_command(tdsim("run")).output.find("\033["), std::string::npos) << "a pipe is not a terminal";
  // script(1) gives the command a pseudo-terminal.
  CommandResult tty = run_command("env -u NO_COLOR script -qec '" + tdsim("run") + "' /dev/null");
  if (tty.exit_code != 0 && tty.output.find("tdsim") == std::string::npos)
    GTEST_SKIP() << "script(1) could not allocate a pseudo-terminal: " << tty.output;
  EXPECT_NE(tty.output.find("\033[32m"), std::string::npos) << tty.output;
  CommandResult no = run_command("NO_COLOR=1 script -qec '" + tdsim("run") + "' /dev/null");
  EXPECT_EQ(no.output.find("\033["), std::string::npos) << no.output;
}

}  // namespace
