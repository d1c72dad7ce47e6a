// Bad input: one clear line naming the option or field, a usage exit code, no crash.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "run_command.h"

namespace {

constexpr int kUsage = 64;

void expect_usage_error(const std::string& args, const std::string& fragment) {
  CommandResult r = run_command(tdsim(args));
  EXPECT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, kUsage) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
}

std::string temp_file(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(CliInput, UnknownCommand) { expect_usage_error("frobnicate", "unknown command 'frobnicate'"); }
TEST(CliInput, UnknownOption) { expect_usage_error("run --frob", "frob"); }
TEST(CliInput, MissingGuestFile) { expect_usage_error("run --guest /nonexistent/x.elf", "--guest: cannot read '/nonexistent/x.elf'"); }
TEST(CliInput, DirectoryAsGuest) { expect_usage_error("run --guest /tmp", "is a directory"); }
TEST(CliInput, EmptyGuestFile) { expect_usage_error("run --guest " + temp_file("empty.elf", ""), "is empty"); }
TEST(CliInput, GarbageGuestFile) { expect_usage_error("run --guest " + temp_file("garbage.elf", "this is not an ELF file at all"), "--guest"); }
TEST(CliInput, TooManyVcpus) { expect_usage_error("run --vcpus 65", "--vcpus"); }
TEST(CliInput, ZeroVcpus) { expect_usage_error("run --vcpus 0", "--vcpus"); }
TEST(CliInput, NegativeVcpus) { expect_usage_error("run --vcpus -1", "vcpus"); }
TEST(CliInput, BadGpaw) { expect_usage_error("run --gpaw 40", "--gpaw"); }
TEST(CliInput, BadMemSuffix) { expect_usage_error("run --mem 32Q", "--mem"); }
TEST(CliInput, BadTimeout) { expect_usage_error("run --timeout -1", "--timeout"); }
TEST(CliInput, UnknownBackend) { expect_usage_error("run --backend qemu", "qemu"); }
TEST(CliInput, OversizedStub) { expect_usage_error("run --stub " + temp_file("big.bin", std::string(200, '\x90')), "--stub"); }

TEST(CliInput, NoArgumentsPrintsUsage) {
  CommandResult r = run_command(tdsim(""));
  EXPECT_EQ(r.exit_code, kUsage);
  EXPECT_NE(r.output.find("usage: tdsim"), std::string::npos);
}

TEST(CliInput, HelpExitsZero) {
  CommandResult r = run_command(tdsim("run --help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--vcpus"), std::string::npos);
}

}  // namespace
