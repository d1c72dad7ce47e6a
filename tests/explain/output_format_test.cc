// The pieces of `tdsim run` output: JSON records, the text form with reports under
// their event, option parsing, colour rules, and `tdsim diff` ignoring the reports.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "cli/event_printer.h"
#include "cli/json_events.h"
#include "cli/run_options.h"
#include "cli/run_trace.h"
#include "core/event_diff.h"

namespace tdsim::cli {
namespace {

FaultEvent fault() {
  FaultEvent f{0, 0xffffffe3, 13, 0, false, "MOV to CR0 raises #GP(0)"};
  f.explanation = {"vCPU 0: #GP(0x0) at RIP 0xffffffe3", "  cause [cr4-pae-missing] boot_params.cr4: ..."};
  return f;
}

TEST(OutputJson, FaultCarriesItsExplanationAndHexAddresses) {
  const nlohmann::json j = event_to_json(fault());
  EXPECT_EQ(j["type"], "fault");
  EXPECT_EQ(j["rip"], "0xffffffe3");
  EXPECT_EQ(j["vector"], 13);
  EXPECT_EQ(j["triple_fault"], false);
  ASSERT_EQ(j["explanation"].size(), 2u);
  EXPECT_EQ(j["explanation"][1], "  cause [cr4-pae-missing] boot_params.cr4: ...");
  EXPECT_EQ(j["text_line"], describe(Event{fault()}));
}

TEST(OutputJson, UcallAndBudgetAndSummary) {
  UcallEvent u;
  u.cmd = abi::kUcallPrintf;
  u.text = "hi";
  u.args[0] = 0x1234;
  const nlohmann::json ju = event_to_json(u);
  EXPECT_EQ(ju["type"], "ucall");
  EXPECT_EQ(ju["cmd"], "PRINTF");
  EXPECT_EQ(ju["args"][0], "0x1234");
  EXPECT_EQ(ju["text"], "hi");
  BudgetExceededEvent b{BudgetExceededEvent::Kind::kWallClock, 300, {"vCPU 0 still running at RIP 0x1"}};
  const nlohmann::json jb = event_to_json(b);
  EXPECT_EQ(jb["kind"], "wall_clock");
  EXPECT_EQ(jb["limit"], 300);
  EXPECT_EQ(jb["explanation"][0], "vCPU 0 still running at RIP 0x1");
  const nlohmann::json js = summary_to_json(RunSummary{"unicorn", Outcome::kFault, 1, 2, 3});
  EXPECT_EQ(js["type"], "summary");
  EXPECT_EQ(js["outcome"], to_string(Outcome::kFault));
  EXPECT_EQ(js["exit_code"], 2);
  EXPECT_EQ(js["lint"]["errors"], 2);
  EXPECT_EQ(js["lint"]["warnings"], 3);
}

TEST(OutputText, ExplanationIndentedUnderTheFault) {
  const auto lines = event_lines(fault());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], describe(Event{fault()}));
  EXPECT_EQ(lines[1], "  vCPU 0: #GP(0x0) at RIP 0xffffffe3");
}

TEST(OutputText, NoRegisterStateIsSaid) {
  const auto lines = event_lines(FaultEvent{0, 0, -1, 0, true, "triple fault"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("cannot read the vCPU's registers"), std::string::npos);
}

TEST(OutputText, NoColorDisablesColour) {
  setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(want_colour(stdout));
  unsetenv("NO_COLOR");
}

TEST(OutputOptions, FormatAndTraceParsing) {
  EXPECT_EQ(parse_format("json"), OutputFormat::kJson);
  EXPECT_EQ(parse_format("ktap"), OutputFormat::kKtap);
  EXPECT_THROW(parse_format("xml"), UsageError);
  const TraceRequest t = parse_trace("boot,ucall");
  EXPECT_TRUE(t.boot && t.ucall && !t.insn && !t.tdcall);
  const TraceRequest all = parse_trace("all");
  EXPECT_TRUE(all.insn && all.boot && all.tdcall && all.ucall);
  EXPECT_THROW(parse_trace("insn,bogus"), UsageError);
}

TEST(OutputDiff, ExplanationsAreNotCompared) {
  FaultEvent a = fault(), b = fault();
  b.explanation = {"something else entirely"};
  EXPECT_FALSE(first_divergence({a}, {b}, 1).has_value());
}

}  // namespace
}  // namespace tdsim::cli
