// `tdsim run --firmware` end to end on Unicorn with Debian's OVMF builds
// (tests/firmware/debian_ovmf.h). Trixie's boots from its reset vector through SEC into
// PEI: the TDX milestones, the module entries up to PlatformPei and the PEIMs it loads into
// RAM, the RTMR extends and accepted pages reported at the end. Bookworm's stops in SEC
// on its own limit: its TDG.VP.VMCALLs expose RBP, which a NO_RBP_MOD TD refuses
// (docs/firmware.md). Layout errors are usage errors naming the section.
#include <gtest/gtest.h>

#include <regex>

#include "tests/cli/run_command.h"
#include "tests/firmware/debian_ovmf.h"

namespace {

using namespace debian_ovmf;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

#define REQUIRE_OVMF(path, size) \
  if (auto why = ovmf_missing(path, size); !why.empty()) GTEST_SKIP() << why

// Where `what` first appears in `out` (npos-safe ordering checks).
size_t pos(const std::string& out, const std::string& what) { return out.find(what); }

// Each of `marks` appears in `out`, each no earlier than the one before (the first no
// earlier than `from`).
template <size_t N>
void expect_in_order(const std::string& out, const char* const (&marks)[N], size_t from = 0) {
  size_t last = from;
  for (const char* m : marks) {
    const size_t at = pos(out, m);
    ASSERT_NE(at, std::string::npos) << m << "\n" << out;
    EXPECT_GE(at, last) << m << " out of order\n" << out;
    last = at;
  }
}

TEST(RunFirmwareCli, TrixieOvmfReaches64BitModeFromItsResetVector) {
  REQUIRE_OVMF(kTrixieOvmf, kTrixieOvmfSize);
  const CommandResult r =
      run_command(tdsim(std::string("run --backend unicorn --mem 128M --trace boot --firmware ") + kTrixieOvmf));
  EXPECT_NE(r.exit_code, 64) << r.output;
  EXPECT_NE(r.exit_code, 70) << r.output;
  EXPECT_NE(r.output.find("64-bit"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("boot_params"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("tdsim lint"), std::string::npos) << "firmware is not linted as tdsim's layout\n" << r.output;
}

// The furthest the build gets on tdsim (docs/firmware.md, "How far it boots"): about 6.5e8
// instructions, six to twelve seconds in a RelWithDebInfo build. ASan's hooks make PEI about three
// times slower, so that pass stops earlier, once PlatformPei has run.
TEST(RunFirmwareCli, TrixieOvmfBootsIntoPeiWithItsTdxMilestones) {
  REQUIRE_OVMF(kTrixieOvmf, kTrixieOvmfSize);
  const std::string budget = kAsan ? "600000000" : "700000000";
  const CommandResult r = run_command(tdsim("run --backend unicorn --mem 256M --timeout 100 --max-insns " + budget +
                                            " --firmware " + kTrixieOvmf));
  EXPECT_EQ(r.exit_code, 124) << r.output;
  const std::string& o = r.output;
  const char* in_order[] = {"TDX detected: CPUID leaf 0x21",
                            "entered SecMain",
                            "TDG.VP.INFO: GPAW 48, 1 vCPU(s)",
                            "first page accepted",
                            "pci: config read 00:00.0 reg 0x02 size 2: 0x29c0",
                            "entered PeiCore",
                            "entered PcdPeim",
                            "entered TdTcg2Pei",
                            "entered PlatformPei",
                            "fw_cfg: select 0x0019 (file directory",
                            "RTMR[0] extend #1 with ",
                            "RTMR[0] = "};
  ASSERT_NO_FATAL_FAILURE(expect_in_order(o, in_order));
  // The 2 MiB accepts SEC tries first are refused (4 KiB mappings): one event, then a count.
  EXPECT_EQ(o.find("level 1 asked"), o.rfind("level 1 asked")) << o;
  EXPECT_TRUE(std::regex_search(o, std::regex(R"(6551\d pages accepted \(255 MiB\); \d+ accepts of 2 MiB)"))) << o;
  if (!kAsan) {
    // PEIMs shadowed into RAM from the compressed PEI volume, named from the firmware
    // file's catalog (firmware/fv_catalog.h); the PEI TPM probe (MMIO, no TPM).
    EXPECT_NE(o.find("entered DxeIpl (PE image at 0xff71000)"), std::string::npos) << o;
    EXPECT_NE(o.find("mmio read gpa 0xfed40000"), std::string::npos) << o;
    // DXE: the DXE core dispatches DevicePathDxe, PcdDxe and AmdSevDxe (0xf50c000),
    // unloads AmdSevDxe (not an SEV guest) and loads TdxDxe over it, which runs from its
    // own bytes (docs/engine-quirks.md: stale translations) ...
    const char* dxe[] = {"entered DxeCore (PE image at 0xff34000)", "entered DevicePathDxe", "entered PcdDxe",
                         "entered AmdSevDxe (PE image at 0xf50c000)", "entered TdxDxe (PE image at 0xf50c000)",
                         "entered CpuDxe", "entered IoMmuDxe",
                         // ... RngDxe, whose RDRAND runs (the engine's CPU model has it, as the
                         // TD's CPUID says), then PciHostBridgeDxe, which reads fw_cfg's file
                         // directory and takes a #PF writing a page its page tables do not map
                         // (docs/firmware.md, "How far it boots"), and the DXE core's dump on COM1.
                         "entered RngDxe (PE image at 0xf4c4000)", "entered PciHostBridgeDxe (PE image at 0xf4b9000)",
                         "X64 Exception Type - 0E(#PF - Page-Fault)", "Find image based on IP(0xF4BD483)"};
    // From PlatformPei on: the RTMR report above comes at the run's end.
    ASSERT_NO_FATAL_FAILURE(expect_in_order(o, dxe, pos(o, "entered PlatformPei")));
  }
}

#ifdef TDSIM_UKVM_HAVE_ENGINE
// The same firmware on tdsim's kvm-tdx backend (the hardware path) under the user-space
// KVM: the TD is built through the KVM TDX uAPI from the firmware's metadata and boots
// through SEC into PEI, which the exits show: the q35 host bridge probe SEC makes,
// PlatformPei's fw_cfg file directory, and the TPM probe of the PEIMs shadowed into RAM.
// kvm-tdx sees only exits (no module names), so those stand for the milestones. About
// 5.5e8 instructions, two seconds; SEC's first 5e8 accept and zero the RAM.
TEST(RunFirmwareCli, TrixieOvmfBootsIntoPeiOnKvmTdxUnderTheUserSpaceKvm) {
  REQUIRE_OVMF(kTrixieOvmf, kTrixieOvmfSize);
  const CommandResult r = run_command(tdsim(std::string("exec --timeout 100 --max-insns 560000000 -- ") + TDSIM_BIN +
                                            " run --backend kvm-tdx --mem 256M --timeout 100 --firmware " + kTrixieOvmf));
  EXPECT_EQ(r.exit_code, 124) << r.output;
  const std::string& o = r.output;
  const char* in_order[] = {"pci: config read 00:00.0 reg 0x02 size 2: 0x29c0",
                            "fw_cfg: select 0x0019 (file directory", "mmio read gpa 0xfed40000",
                            "ran out of its instruction budget ("};  // counted per block: may overshoot
  ASSERT_NO_FATAL_FAILURE(expect_in_order(o, in_order));
}
#endif

// Bookworm's OVMF: SEC asks the VMM for MSRs with RBP in the expose mask; the TDX module of
// a NO_RBP_MOD TD refuses each such TDG.VP.VMCALL, and the firmware never leaves SEC.
TEST(RunFirmwareCli, BookwormOvmfStopsInSecOnItsRbpExposingVmcalls) {
  REQUIRE_OVMF(kBookwormOvmf, kBookwormOvmfSize);
  const CommandResult r = run_command(
      tdsim(std::string("run --backend unicorn --mem 128M --timeout 100 --max-insns 300000000 --firmware ") +
            kBookwormOvmf));
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("entered SecMain"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TDG.VP.VMCALL expose mask RCX 0xffec sets forbidden or reserved bits 0x20 (RAX, RCX, "
                          "RSP, RBP with NO_RBP_MOD"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("entered PeiCore"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("triple fault"), std::string::npos) << r.output;
}

// Firmware has no symbol table; reports name the PE module around RIP from the image
// itself (diag/pe_module.h: Debian's release build keeps the FFS UI sections). Stopped by
// a budget inside SEC, the position names SecMain.
TEST(RunFirmwareCli, TheFirmwaresModulesAreNamedAndEnteringThemIsAMilestone) {
  REQUIRE_OVMF(kTrixieOvmf, kTrixieOvmfSize);
  const CommandResult r =
      run_command(tdsim(std::string("run --backend unicorn --mem 128M --max-insns 200000 --firmware ") + kTrixieOvmf));
  EXPECT_EQ(r.exit_code, 124) << r.output;
  EXPECT_NE(r.output.find("milestone at rip"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("entered SecMain"), std::string::npos) << r.output;
  const std::regex module_at_rip(R"(still running at RIP 0x[0-9a-f]+ <SecMain\+0x[0-9a-f]+>)");
  EXPECT_TRUE(std::regex_search(r.output, module_at_rip)) << r.output;
}

TEST(RunFirmwareCli, LayoutErrorsAreUsageErrors) {
  REQUIRE_OVMF(kTrixieOvmf, kTrixieOvmfSize);
  CommandResult r = run_command(tdsim(std::string("run --mem 4M --firmware ") + kTrixieOvmf));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("(TempMem at 0x811000, 0xf000 bytes) is not inside the TD's RAM"), std::string::npos)
      << r.output;
  r = run_command(tdsim(std::string("run --guest /dev/null --firmware ") + kTrixieOvmf));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--guest and --stub do not apply"), std::string::npos) << r.output;
}

}  // namespace
