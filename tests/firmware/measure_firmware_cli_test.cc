// `tdsim measure --firmware` end to end: the hex MRTD, the JSON section table, and exit
// 64 with the field named for a file that is not a TDVF image. Kept apart from the tdsim
// headers: tests/cli/run_command.h declares a global tdsim().
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/cli/run_command.h"
#include "tests/firmware/debian_ovmf.h"

namespace {

void hex_and_json_agree(const std::string& fw) {
  const CommandResult hex = run_command(tdsim("measure --firmware " + fw));
  ASSERT_EQ(hex.exit_code, 0) << hex.output;
  ASSERT_EQ(hex.output.size(), 97u) << hex.output;  // 96 hex digits and a newline
  const CommandResult json = run_command(tdsim("measure --format json --firmware " + fw));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"mrtd\": \"" + hex.output.substr(0, 96) + "\""), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("\"type\": \"BFV\""), std::string::npos) << json.output;
  EXPECT_NE(json.output.find("\"type\": \"TD_HOB\""), std::string::npos) << json.output;
}

TEST(MeasureFirmwareCli, DebianTrixieOvmfHexAndJsonAgree) {
  using namespace debian_ovmf;
  if (auto why = ovmf_missing(kTrixieOvmf, kTrixieOvmfSize); !why.empty()) GTEST_SKIP() << why;
  hex_and_json_agree(kTrixieOvmf);
}

TEST(MeasureFirmwareCli, DebianBookwormOvmfHexAndJsonAgree) {
  using namespace debian_ovmf;
  if (auto why = ovmf_missing(kBookwormOvmf, kBookwormOvmfSize); !why.empty()) GTEST_SKIP() << why;
  hex_and_json_agree(kBookwormOvmf);
}

TEST(MeasureFirmwareCli, NotAFirmwareIsAUsageErrorNamingWhy) {
  const std::string path = ::testing::TempDir() + "/not_firmware.bin";
  {
    std::ofstream out(path, std::ios::binary);
    std::vector<char> zeros(8192, 0);
    out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  const CommandResult r = run_command(tdsim("measure --firmware " + path));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--firmware " + path + ": OVMF GUIDed table: no footer GUID"), std::string::npos)
      << r.output;
  std::remove(path.c_str());
}

TEST(MeasureFirmwareCli, TwoPassOrderIsRefusedForFirmware) {
  const CommandResult r = run_command(tdsim("measure --order two-pass --firmware /dev/null"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--order two-pass applies to tdsim images"), std::string::npos) << r.output;
}

}  // namespace
