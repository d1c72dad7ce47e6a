// The other subcommands end to end: diff, probe, measure, lint.
#include <gtest/gtest.h>

#include "run_command.h"

namespace {

// Asks the CLI itself, so these tests see the host exactly as a user does.
bool kvm_usable(std::string& why) {
  CommandResult r = run_command(tdsim("probe"));
  auto at = r.output.find("backend kvm:");
  if (at == std::string::npos) {
    why = "tdsim probe printed no kvm line: " + r.output;
    return false;
  }
  std::string line = r.output.substr(at, r.output.find('\n', at) - at);
  if (line.find("can run") != std::string::npos && line.find("cannot") == std::string::npos) return true;
  why = line;
  return false;
}

TEST(CliDiff, AgreeingBackendsExitZero) {
  std::string why;
  if (!kvm_usable(why)) GTEST_SKIP() << "plain KVM unusable: " << why;
  CommandResult r = run_command(tdsim("diff --backends unicorn,kvm --vcpus 2"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("unicorn and kvm agree"), std::string::npos) << r.output;
}

TEST(CliDiff, DivergenceIsPrintedAndExitsOne) {
  std::string why;
  if (!kvm_usable(why)) GTEST_SKIP() << "plain KVM unusable: " << why;
  // ve_cpuid asks CPUID for a leaf the TDX module does not virtualize and reports how
  // many #VEs its handler took: one on Unicorn, which raises the module's #VE, none on
  // plain KVM, whose kernel answers every CPUID (BackendCaps::cpuid_ve): a real,
  // deterministic divergence between the two backends at the first ucall.
  CommandResult r = run_command(tdsim(std::string("diff --backends unicorn,kvm --guest ") + TDSIM_GUEST_VE_CPUID_ELF));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("first divergence at vcpu 0 ucall #0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unicorn: vcpu 0: ucall SYNC args 0x1 0x1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kvm: vcpu 0: ucall SYNC args 0x1 0x0"), std::string::npos) << r.output;
}

TEST(CliDiff, SameBackendTwiceAgrees) {
  CommandResult r = run_command(tdsim("diff --backends unicorn,unicorn --vcpus 3"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(CliDiff, MalformedBackendsIsUsageError) {
  CommandResult r = run_command(tdsim("diff --backends unicorn"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--backends"), std::string::npos) << r.output;
}

TEST(CliProbe, ReportsEveryBackend) {
  CommandResult r = run_command(tdsim("probe"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("backend kvm:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("backend kvm-tdx:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unicorn: can run"), std::string::npos) << r.output;
}

TEST(CliMeasure, HexIsStableAndJsonAgrees) {
  CommandResult a = run_command(tdsim("measure"));
  CommandResult b = run_command(tdsim("measure"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(a.output.size(), 97u) << a.output;  // 96 hex digits + newline
  EXPECT_EQ(a.output, b.output);
  CommandResult j = run_command(tdsim("measure --format json"));
  ASSERT_EQ(j.exit_code, 0) << j.output;
  EXPECT_NE(j.output.find(a.output.substr(0, 96)), std::string::npos) << j.output;
  CommandResult two = run_command(tdsim("measure --order two-pass"));
  EXPECT_NE(two.output, a.output);
  CommandResult other = run_command(tdsim("measure --vcpus 2"));
  EXPECT_NE(other.output, a.output) << "a different image must measure differently";
}

TEST(CliMeasure, BadFormatIsUsageError) {
  CommandResult r = run_command(tdsim("measure --format xml"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
}

TEST(CliLint, DefaultImageIsClean) {
  CommandResult r = run_command(tdsim("lint --vcpus 4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 error(s)"), std::string::npos) << r.output;
}

}  // namespace

TEST(CliVersion, PrintsTheProjectVersionAndExitsZero) {
  CommandResult r = run_command(tdsim("--version"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, std::string("tdsim ") + TDSIM_PROJECT_VERSION + "\n");
}
