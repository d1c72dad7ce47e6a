// Traces and coverage from sim::Session: instruction lines match what ran, boot steps
// come in TD boot order, TDCALLs are named, coverage marks the INT3 as never run, and
// with tracing off nothing reaches a sink.
#include "sim/trace.h"

#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "sim/session.h"
#include "tests/guests/test_assets.h"

namespace tdsim::sim {
namespace {

TdImage hello() {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
  return build_image(spec);
}

const RunLimits kLimits{50'000'000, std::chrono::milliseconds(20'000)};

size_t find_line(const std::vector<std::string>& lines, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos) return i;
  return SIZE_MAX;
}

TEST(SimTrace, InstructionLinesMatchExecutedCount) {
  const TdImage im = hello();
  Session s(im);
  std::vector<std::string> lines;
  TraceOptions t;
  t.insn = true;
  t.sink = [&](const std::string& l) { lines.push_back(l); };
  s.set_trace(&t);
  s.run(kLimits, [](const Event&) {});
  EXPECT_EQ(lines.size(), s.vcpu(0).executed());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "vcpu 0 insn 0xfffffff0: eb c8                   jmp 0xffffffba");
  EXPECT_NE(find_line(lines, "tdcall"), SIZE_MAX) << "TDCALL decoded from the TDX table";
}

TEST(SimTrace, BootStepsInOrder) {
  const TdImage im = hello();
  Session s(im);
  std::vector<std::string> lines;
  TraceOptions t;
  t.boot = true;
  t.sink = [&](const std::string& l) { lines.push_back(l); };
  s.set_trace(&t);
  s.run(kLimits, [](const Event&) {});
  // LIDT after paging: the built-in stub loads the 64-bit IDT in IA-32e mode.
  const char* steps[] = {"boot LGDT: GDTR base", "boot CR4 0x40 -> ", "boot CR3 0x0 -> ",
                         "boot CR0 0x21 -> ", "boot paging on: EFER", "LMA", "boot LIDT: IDTR base", "boot far jump: CS 0x8",
                         "boot jump to guest_code"};
  size_t at = 0;
  for (const char* step : steps) {
    const size_t i = find_line(lines, step);
    ASSERT_NE(i, SIZE_MAX) << step;
    EXPECT_GE(i, at) << step;
    at = i;
  }
  EXPECT_NE(lines.back().find("in IA-32e 64-bit mode"), std::string::npos) << lines.back();
}

TEST(SimTrace, TdcallLinesNameLeafAndRegisterRoles) {
  const TdImage im = hello();
  Session s(im);
  std::vector<std::string> lines;
  TraceOptions t;
  t.tdcall = true;
  t.sink = [&](const std::string& l) { lines.push_back(l); };
  s.set_trace(&t);
  s.run(kLimits, [](const Event&) {});
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("TDG.VP.VMCALL<#VE.RequestMMIO> RCX=0xfc00"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("R13=1 (write)"), std::string::npos) << lines[0];
}

TEST(SimTrace, CoverageMarksTheInt3AsNeverRun) {
  const TdImage im = hello();
  Session s(im);
  StubCoverage cov;
  TraceOptions t;
  t.coverage = &cov;
  s.set_trace(&t);
  s.run(kLimits, [](const Event&) {});
  const auto lines = format_stub_coverage(cov, im);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(find_line(lines, "- 0xfffffff2: cc"), SIZE_MAX);
  EXPECT_NE(find_line(lines, "+ 0xfffffff0: eb"), SIZE_MAX);
  EXPECT_NE(find_line(lines, "+ 0xffffffed: ff 60 08                jmp qword ptr [rax + 8]"), SIZE_MAX)
      << "the 64-bit tail decoded in the mode it ran in";
  EXPECT_NE(lines.back().find("of 18 instructions ran"), std::string::npos) << lines.back();
}

TEST(SimTrace, OffMeansNoLinesAfterClearing) {
  const TdImage im = hello();
  Session s(im);
  size_t n = 0;
  TraceOptions t;
  t.insn = t.boot = t.tdcall = true;
  t.sink = [&](const std::string&) { ++n; };
  s.set_trace(&t);
  s.run(kLimits, [](const Event&) {});
  EXPECT_GT(n, 0u);
  n = 0;
  s.set_trace(nullptr);
  s.run(kLimits, [](const Event&) {});
  EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace tdsim::sim
