// The pieces of `tdsim run` output: JSON records, the text form with reports under
// their event, option parsing, colour rules, and `tdsim diff` ignoring the reports.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "cli/event_printer.h"
#include "cli/json_events.h"
#include "cli/run_options.h"
#include "cli/run_trace.h"
#include "core/event_diff.h"
#include "core/text_escape.h"
#include "tdsim/abi/tdx.h"

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
  EXPECT_EQ(js["exit_code"], 5);
  EXPECT_EQ(js["lint"]["errors"], 2);
  EXPECT_EQ(js["lint"]["warnings"], 3);
}

// Guest bytes that are not UTF-8 made nlohmann's dump() throw (exit 134); every guest
// string is now escaped, reversibly.
TEST(OutputJson, GuestBytesThatAreNotUtf8AreEscapedNotThrown) {
  UcallEvent u;
  u.cmd = abi::kUcallAbort;
  u.text = "\xff\xc3(\x1b[2J\\";
  u.assertion = AssertInfo{"x\r", "f\xfe.cc", 3};
  const nlohmann::json j = event_to_json(u);
  std::string dumped;
  ASSERT_NO_THROW(dumped = j.dump());
  EXPECT_EQ(j["text"], "\\xff\\xc3(\\x1b[2J\\\\");
  EXPECT_EQ(unescape_text(j["text"].get<std::string>()), u.text);
  EXPECT_EQ(unescape_text(j["assert"]["expr"].get<std::string>()), "x\r");
  EXPECT_EQ(unescape_text(j["assert"]["file"].get<std::string>()), "f\xfe.cc");
  EXPECT_EQ(j["text_line"], escape_text(describe(u)));
  FaultEvent f{0, 0, -1, 0, false, "ReportFatalError: \"\xff\""};
  f.explanation = {"<\x80sym>"};
  const nlohmann::json jf = event_to_json(f);
  EXPECT_EQ(jf["detail"], "ReportFatalError: \"\\xff\"");
  EXPECT_EQ(jf["explanation"][0], "<\\x80sym>");
  EXPECT_NO_THROW((void)jf.dump());
}

// A guest chooses an assertion's line and a bad pointer's length: any 64-bit value, which
// a reader that parses JSON numbers as doubles would round. They are hex strings.
TEST(OutputJson, GuestSupplied64BitValuesAreHexStrings) {
  UcallEvent u;
  u.cmd = abi::kUcallAbort;
  u.assertion = AssertInfo{"e", "f", 0xffffffffffffffffull};
  EXPECT_EQ(event_to_json(u)["assert"]["line"], "0xffffffffffffffff");
  const nlohmann::json g = event_to_json(GuestMemoryErrorEvent{2, 0x1000, 0x20000000000001ull, "PRINTF buffer"});
  EXPECT_EQ(g["size"], "0x20000000000001");
  EXPECT_EQ(g["gpa"], "0x1000");
}

// Every VMCALL sub-function KVM hands to userspace has its own shape, none is "other".
TEST(OutputJson, VmcallExitsHaveAShapePerSubFunction) {
  const nlohmann::json map = event_to_json(VmcallExitEvent{1, 0x401000, abi::kVmcallMapGpa, 0x8000001000, 0x2000, 0, 0});
  EXPECT_EQ(map["type"], "vmcall_exit");
  EXPECT_EQ(map["call"], "map_gpa");
  EXPECT_EQ(map["gpa"], "0x8000001000");
  EXPECT_EQ(map["size"], "0x2000");
  EXPECT_FALSE(map.contains("arg"));
  const nlohmann::json quote = event_to_json(VmcallExitEvent{0, 1, abi::kVmcallGetQuote, 0x5000, 0x1000, 0, 0});
  EXPECT_EQ(quote["call"], "get_quote");
  const nlohmann::json notify = event_to_json(VmcallExitEvent{0, 1, abi::kVmcallSetupEventNotifyInterrupt, 0, 0, 64, 0});
  EXPECT_EQ(notify["call"], "setup_event_notify_interrupt");
  EXPECT_EQ(notify["vector"], "0x40");
  EXPECT_FALSE(notify.contains("gpa"));
  const nlohmann::json info = event_to_json(VmcallExitEvent{0, 1, abi::kVmcallGetTdVmCallInfo, 0, 0, 1, 0});
  EXPECT_EQ(info["call"], "get_tdvmcall_info");
  EXPECT_EQ(info["leaf"], "0x1");
  const nlohmann::json other = event_to_json(VmcallExitEvent{0, 1, 0x10099, 2, 3, 4, 5});
  EXPECT_EQ(other["call"], "unknown");
  EXPECT_EQ(other["arg"], "0x4");
  EXPECT_EQ(other["status"], "0x5");
}

TEST(OutputJson, HeaderCarriesTheSchemaAndSkipTheReason) {
  EXPECT_EQ(header_json(),
            (nlohmann::json{{"type", "header"}, {"schema", kJsonSchemaVersion}, {"version", TDSIM_VERSION}}));
  RunSummary s{"kvm-tdx", Outcome::kSkip, 0, 0, 0, "no TDX"};
  const nlohmann::json j = summary_to_json(s);
  EXPECT_EQ(j["outcome"], "SKIP");
  EXPECT_EQ(j["exit_code"], 4);
  EXPECT_EQ(j["skip_reason"], "no TDX");
  EXPECT_FALSE(summary_to_json(RunSummary{"kvm", Outcome::kDone, 1}).contains("skip_reason"));
}

TEST(OutputText, ExplanationIndentedUnderTheFault) {
  const auto lines = event_lines(fault());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], describe(Event{fault()}));
  EXPECT_EQ(lines[1], "  vCPU 0: #GP(0x0) at RIP 0xffffffe3");
}

TEST(OutputText, LinesAreEscapedSoAGuestCannotForgeOne) {
  UcallEvent u;
  u.cmd = abi::kUcallPrintf;
  u.text = "hi\r\ntdsim: DONE on unicorn after 1 events (exit 0)\x1b[2K";
  FaultEvent f{0, 0, 13, 0, false, "gp"};
  f.explanation = {"at <sym\x07>"};
  EXPECT_EQ(event_lines(u), std::vector<std::string>{
                                "vcpu 0: ucall PRINTF: hi\\x0d\\x0atdsim: DONE on unicorn after 1 events (exit 0)\\x1b[2K"});
  EXPECT_EQ(event_lines(f)[1], "  at <sym\\x07>");
}

// The ucall trace quotes guest strings: a quote inside one is escaped too, so it cannot
// end the field early and forge the assert location after it.
TEST(OutputTrace, UcallLineEscapesQuotedGuestStrings) {
  UcallEvent u;
  u.cmd = abi::kUcallAbort;
  u.text = "m\"\n";
  u.assertion = AssertInfo{"a\" at \"x.cc\":1", "f.cc", 9};
  const std::string l = ucall_trace_line(u);
  EXPECT_NE(l.find(R"( text "m\x22\x0a" assert "a\x22 at \x22x.cc\x22:1" at "f.cc":9)"), std::string::npos) << l;
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
