// tdsim run's TD configuration options: each one reaches the guest (TDG.VP.INFO, CPUID,
// TDREPORT) through a run of the td_config_report guest, and each bad value is refused
// with the option named and exit 64, before anything runs.
#include "cli/td_config_options.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli/run_options.h"
#define TDSIM_RUN_COMMAND_NO_TDSIM_HELPER
#include "run_command.h"
#include "tdx/host_hooks.h"
#include "tests/guests/test_assets.h"

namespace {

std::string tdsim_cmd(const std::string& args) { return std::string(TDSIM_BIN) + " " + args; }

// The args of each SYNC the guest sent, from tdsim run --format json.
std::vector<std::vector<uint64_t>> syncs(const std::string& options, int* exit_code) {
  const CommandResult r =
      run_command(tdsim_cmd("run --format json --guest " + std::string(TDSIM_GUEST_TD_CONFIG_REPORT_ELF) + " " + options));
  *exit_code = r.exit_code;
  std::vector<std::vector<uint64_t>> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("cmd", "") != "SYNC") continue;
    std::vector<uint64_t> args;
    for (const auto& a : j["args"]) args.push_back(std::stoull(a.get<std::string>(), nullptr, 16));
    out.push_back(args);
  }
  return out;
}

std::string digest(uint8_t first) {
  std::string s;
  for (int i = 0; i < 48; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<uint8_t>(first + i));
    s += b;
  }
  return s;
}

TEST(TdConfigOptions, DefaultsAreAProductionTdWithMinimalXfam) {
  int rc = -1;
  const auto s = syncs("", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0][1], 0u) << "ATTRIBUTES";
  EXPECT_EQ(s[0][2], 1u | (uint64_t{tdsim::tdx::kKvmMaxVcpus} << 32)) << "NUM_VCPUS 1, MAX_VCPUS = KVM's limit";
  EXPECT_EQ(s[0][3], 3u) << "CPUID 0xd.0 EAX: x87 | SSE";
  EXPECT_EQ(s[0][4] >> 31, 0u) << "no PKS";
  EXPECT_EQ(s[1][1], 3u) << "TDREPORT XFAM";
  EXPECT_EQ(s[1][2], 0u);
  EXPECT_EQ(s[1][3], 0u);
  EXPECT_EQ(s[1][4], 0u);
}

TEST(TdConfigOptions, AttributesByNameAndByNumber) {
  int rc = -1;
  auto s = syncs("--td-attributes debug,pks", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0][1], 0x40000001u);
  EXPECT_EQ(s[0][4] >> 31, 1u) << "CPUID 7.0 ECX.PKS follows ATTRIBUTES.PKS";
  s = syncs("--td-attributes 0x8000000010000000", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0][1], 0x8000000010000000ull) << "perfmon | sept_ve_disable";
}

TEST(TdConfigOptions, XfamDrivesCpuidLeafDAndTdreport) {
  int rc = -1;
  const auto s = syncs("--xfam 0x207", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0][3], 0x207u) << "x87, SSE, AVX, PKRU";
  EXPECT_EQ(s[1][1], 0x207u);
}

TEST(TdConfigOptions, MaxVcpusIsTdgVpInfoR8High) {
  int rc = -1;
  const auto s = syncs("--max-vcpus 8", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0][2], 1u | (8ull << 32));
}

TEST(TdConfigOptions, MeasurementRegistersReachTdreport) {
  int rc = -1;
  const auto s = syncs("--mrconfigid " + digest(0x10) + " --mrowner 0x" + digest(0x40) + " --mrownerconfig " +
                           digest(0x80),
                       &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1][2], 0x1716151413121110ull);
  EXPECT_EQ(s[1][3], 0x4746454443424140ull);
  EXPECT_EQ(s[1][4], 0x8786858483828180ull);
}

// The same configuration on plain KVM: the platform behind its TDCALL emulation is the
// same TDX module stand-in, so TDG.VP.INFO and TDREPORT say the same. (Its CPUID
// values, SYNC 1's last two, are this host KVM's: KVM_SET_CPUID2 fails here,
// docs/engine-quirks.md.)
TEST(TdConfigOptions, PlainKvmReportsWhatUnicornReports) {
  const std::string opts =
      "--td-attributes debug,perfmon --xfam 0xe7 --max-vcpus 8 --mrconfigid " + digest(0x10) + " --mrowner " +
      digest(0x40);
  int rc_unicorn = -1, rc_kvm = -1;
  const auto unicorn = syncs(opts, &rc_unicorn);
  const auto kvm = syncs("--backend kvm " + opts, &rc_kvm);
  ASSERT_EQ(rc_unicorn, 0);
  ASSERT_EQ(unicorn.size(), 2u);
  if (rc_kvm == 4) GTEST_SKIP() << "the kvm backend cannot run here (tdsim exit 4)";
  ASSERT_EQ(rc_kvm, 0);
  ASSERT_EQ(kvm.size(), 2u);
  EXPECT_EQ(kvm[0][1], unicorn[0][1]) << "TDG.VP.INFO attributes";
  EXPECT_EQ(kvm[0][2], unicorn[0][2]) << "TDG.VP.INFO vCPUs and max_vcpus";
  EXPECT_EQ(kvm[1], unicorn[1]) << "TDREPORT: XFAM, MRCONFIGID, MROWNER";
}

TEST(TdConfigOptions, BadValuesNameTheOptionAndExit64) {
  const std::pair<std::string, const char*> bad[] = {
      {"--td-attributes debug,kl", "--td-attributes"},
      {"--td-attributes 0x2", "--td-attributes"},
      {"--xfam 0x4", "--xfam"},
      {"--xfam 0x23", "--xfam"},
      {"--xfam 0x8", "--xfam"},
      {"--max-vcpus 0", "--max-vcpus"},
      {"--vcpus 2 --max-vcpus 1", "--max-vcpus"},
      {"--mrconfigid 1234", "--mrconfigid"},
      {"--mrowner zz" + std::string(94, '0'), "--mrowner"},
      {"--mrownerconfig " + std::string(97, '0'), "--mrownerconfig"},
  };
  for (const auto& [opts, name] : bad) {
    const CommandResult r = run_command(tdsim_cmd("run " + opts));
    EXPECT_EQ(r.exit_code, 64) << opts << "\n" << r.output;
    EXPECT_NE(r.output.find(name), std::string::npos) << opts << "\n" << r.output;
    EXPECT_EQ(r.output.find("ucall"), std::string::npos) << "nothing ran: " << r.output;
  }
}

TEST(TdConfigOptions, ParsedIntoTdxConfig) {
  tdsim::cli::TdConfigOptions o;
  o.attributes = "sept_ve_disable,perfmon";
  o.xfam = "0x602e7";
  o.max_vcpus = "0x10";
  o.mrconfigid = digest(1);
  const tdsim::tdx::TdxConfig c = tdsim::cli::to_td_config(o, 4);
  EXPECT_EQ(c.attributes, (1ull << 28) | (1ull << 63));
  EXPECT_EQ(c.xfam, 0x602e7u);
  EXPECT_EQ(c.max_vcpus, 16u);
  EXPECT_EQ(c.mrconfigid[0], 1);
  EXPECT_EQ(c.mrconfigid[47], 48);
  EXPECT_EQ(c.mrowner[0], 0);
}

}  // namespace
