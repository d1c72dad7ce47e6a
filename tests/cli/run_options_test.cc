#include "cli/run_options.h"

#include <gtest/gtest.h>

namespace tdsim::cli {
namespace {

TEST(RunOptions, ParseSizeAcceptsSuffixesAndHex) {
  EXPECT_EQ(parse_size("32M", "mem"), 32ull << 20);
  EXPECT_EQ(parse_size("1G", "mem"), 1ull << 30);
  EXPECT_EQ(parse_size("4k", "mem"), 4096u);
  EXPECT_EQ(parse_size("0x2000000", "mem"), 0x2000000u);
  EXPECT_EQ(parse_size("4096", "mem"), 4096u);
}

TEST(RunOptions, ParseSizeRejectsJunkNamingTheOption) {
  for (const char* bad : {"", "M", "12MB", "-", "-5", " 5", "99999999999999999999G", "1.5G"}) {
    try {
      parse_size(bad, "mem");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--mem"), std::string::npos) << e.what();
    }
  }
}

TEST(RunOptions, DefaultSpecUsesBuiltInHello) {
  RunOptions o;
  LayoutSpec spec = to_layout_spec(o);
  ASSERT_GT(spec.guest_elf.size(), 4u);
  EXPECT_EQ(spec.guest_elf[0], 0x7f);
  EXPECT_EQ(spec.guest_elf[1], 'E');
  EXPECT_TRUE(spec.stub.empty());
}

TEST(RunOptions, LeadingZeroIsDecimalAndOnly0xIsHex) {
  EXPECT_EQ(parse_number("010", "vcpus", 1, 64), 10u);
  EXPECT_EQ(parse_number("08", "vcpus", 1, 64), 8u);
  EXPECT_EQ(parse_number("0X1f", "vcpus", 1, 64), 31u);
  EXPECT_EQ(parse_size("010M", "mem"), 10ull << 20);
  EXPECT_EQ(parse_size("0x10M", "mem"), 16ull << 20);
  for (const char* bad : {"0x", "0x-5", "0b101", "0o7", "1e3", "0x+5"})
    EXPECT_THROW(parse_number(bad, "vcpus", 0, UINT64_MAX), UsageError) << bad;
}

TEST(RunOptions, NumbersRejectSignsJunkAndRange) {
  EXPECT_EQ(parse_number("0x10", "vcpus", 1, 64), 16u);
  for (const char* bad : {"-5", "", "+3", "3x", " 3", "99999999999999999999"})
    EXPECT_THROW(parse_number(bad, "max-insns", 1, UINT64_MAX), UsageError) << bad;
  EXPECT_THROW(parse_number("0", "max-insns", 1, 10), UsageError);
  RunOptions o;
  o.max_insns = "-5";
  EXPECT_THROW(to_run_limits(o), UsageError);
  o = RunOptions{};
  o.vcpus = "-1";
  EXPECT_THROW(to_layout_spec(o), UsageError);
}

TEST(RunOptions, LimitsComeFromOptions) {
  RunOptions o;
  o.max_insns = "1234";
  o.timeout_s = 0.25;
  RunLimits l = to_run_limits(o);
  EXPECT_EQ(l.max_insns, 1234u);
  EXPECT_EQ(l.timeout.count(), 250);
  o.timeout_s = 0;
  EXPECT_THROW(to_run_limits(o), UsageError);
}

// No --max-insns (or "none"): no instruction budget, the wall clock bounds the run.
TEST(RunOptions, NoInstructionBudgetByDefault) {
  RunOptions o;
  EXPECT_EQ(to_run_limits(o).max_insns, UINT64_MAX);
  o.max_insns = "none";
  EXPECT_EQ(to_run_limits(o).max_insns, UINT64_MAX);
  o.max_insns = "None";
  EXPECT_THROW(to_run_limits(o), UsageError);
}

}  // namespace
}  // namespace tdsim::cli
