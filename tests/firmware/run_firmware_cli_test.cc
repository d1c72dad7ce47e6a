// `tdsim run --firmware` end to end on Unicorn: Debian's OVMF starts at the reset vector in
// the TD initial state, builds its page tables and reaches 64-bit mode; how far it gets
// after that depends on the TD CPU the simulator offers (docs/firmware.md, "How far it
// boots"), so this checks the start and that every explanation speaks of the firmware,
// never of tdsim's boot parameters. Layout errors are usage errors naming the section.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "tests/cli/run_command.h"

namespace {

constexpr const char* kDebianOvmf = "/usr/share/ovmf/OVMF.fd";

TEST(RunFirmwareCli, DebianOvmfReaches64BitModeFromItsResetVector) {
  if (!std::filesystem::exists(kDebianOvmf)) GTEST_SKIP() << kDebianOvmf << " missing: apt-get install ovmf";
  const CommandResult r =
      run_command(tdsim(std::string("run --backend unicorn --mem 128M --trace boot --firmware ") + kDebianOvmf));
  EXPECT_NE(r.exit_code, 64) << r.output;
  EXPECT_NE(r.exit_code, 70) << r.output;
  EXPECT_NE(r.output.find("64-bit"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("boot_params"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("tdsim lint"), std::string::npos) << "firmware is not linted as tdsim's layout\n" << r.output;
}

// Firmware has no symbol table; reports name the PE module around RIP from the image
// itself (diag/pe_module.h: Debian's release build keeps the FFS UI sections), and the
// modules the boot enters are milestones. Stopped by a budget inside SEC, where the page
// tables are intact, the position names SecMain.
TEST(RunFirmwareCli, TheFirmwaresModulesAreNamedAndEnteringThemIsAMilestone) {
  if (!std::filesystem::exists(kDebianOvmf)) GTEST_SKIP() << kDebianOvmf << " missing: apt-get install ovmf";
  const CommandResult r =
      run_command(tdsim(std::string("run --backend unicorn --mem 128M --max-insns 200000 --firmware ") + kDebianOvmf));
  EXPECT_EQ(r.exit_code, 124) << r.output;
  EXPECT_NE(r.output.find("milestone at rip"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("entered SecMain"), std::string::npos) << r.output;
  const std::regex module_at_rip(R"(still running at RIP 0x[0-9a-f]+ <SecMain\+0x[0-9a-f]+>)");
  EXPECT_TRUE(std::regex_search(r.output, module_at_rip)) << r.output;
}

TEST(RunFirmwareCli, LayoutErrorsAreUsageErrors) {
  if (!std::filesystem::exists(kDebianOvmf)) GTEST_SKIP() << kDebianOvmf << " missing: apt-get install ovmf";
  CommandResult r = run_command(tdsim(std::string("run --mem 4M --firmware ") + kDebianOvmf));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("(TempMem at 0x810000, 0x10000 bytes) is not inside the TD's RAM"), std::string::npos)
      << r.output;
  r = run_command(tdsim(std::string("run --guest /dev/null --firmware ") + kDebianOvmf));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--guest and --stub do not apply"), std::string::npos) << r.output;
}

}  // namespace
