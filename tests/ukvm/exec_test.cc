// `tdsim exec` end to end: programs that never touch /dev/kvm run unchanged, exit codes
// and budgets, the module parameters, selftest-style programs written against the uAPI
// (td_raw: its TD built, measured and — with the engine — run, its TDREPORT.MRTD against
// the measure library's prediction over the pages it added; kvm_fork: fork per test) and
// tdsim's own kvm-tdx backend under the user-space KVM.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bootstub/measure/mrtd.h"
#define TDSIM_RUN_COMMAND_NO_TDSIM_HELPER
#include "tests/cli/run_command.h"

namespace {

std::string tdsim_cmd(const std::string& args) { return std::string(TDSIM_BIN) + " " + args; }
std::string exec(const std::string& args) { return tdsim_cmd("exec " + args); }

std::string temp_path(const char* name) {
  return testing::TempDir() + "/" + name + "." + std::to_string(getpid());
}

// The MRTD the TDX module computes over td_raw's pages file (GPA, measured, 4 KiB each).
std::string predicted_mrtd(const std::string& path, size_t* pages) {
  std::ifstream in(path, std::ios::binary);
  ::tdsim::measure::MrtdAccumulator acc;
  *pages = 0;
  for (;;) {
    uint64_t rec[2];
    std::vector<uint8_t> page(4096);
    if (!in.read(reinterpret_cast<char*>(rec), sizeof rec)) break;
    if (!in.read(reinterpret_cast<char*>(page.data()), 4096)) return "truncated";
    acc.page_add(rec[0]);
    if (rec[1])
      for (uint64_t off = 0; off < 4096; off += 256)
        acc.mr_extend(rec[0] + off, std::span<const uint8_t, 256>(page.data() + off, 256));
    ++*pages;
  }
  return acc.finalize().hex();
}

TEST(TdsimExec, ProgramsThatNeverOpenDevKvmRunUnchanged) {
  EXPECT_EQ(run_command(exec("-- /bin/true")).exit_code, 0);
  const CommandResult direct = run_command("sh -c 'cat /etc/hostname; echo $LD_PRELOAD_X'");
  const CommandResult under = run_command(exec("-- sh -c 'cat /etc/hostname; echo $LD_PRELOAD_X'"));
  EXPECT_EQ(under.exit_code, 0);
  EXPECT_EQ(under.output, direct.output);
  EXPECT_EQ(run_command(exec("-- sh -c 'exit 7'")).exit_code, 7);
  // The library is preloaded into the program, nothing else.
  const CommandResult env = run_command(exec("-- sh -c 'echo $LD_PRELOAD'"));
  EXPECT_NE(env.output.find("libtdsim_kvm.so"), std::string::npos) << env.output;
}

TEST(TdsimExec, ExitCodesAndTheBudget) {
  CommandResult r = run_command(exec("-- /nonexistent/program"));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.output.find("cannot run /nonexistent/program"), std::string::npos) << r.output;
  r = run_command(exec("--timeout 0.3 -- sleep 30"));
  EXPECT_EQ(r.exit_code, 124);
  EXPECT_NE(r.output.find("--timeout"), std::string::npos) << r.output;
  r = run_command(exec("--trace boot,bogus -- /bin/true"));
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.output.find("--trace: unknown kind 'bogus'"), std::string::npos) << r.output;
  EXPECT_EQ(run_command(exec("--max-insns 0 -- /bin/true")).exit_code, 64);
  EXPECT_EQ(run_command(exec("--timeout 0.3")).exit_code, 64);  // no program
  EXPECT_EQ(run_command(exec("--timeout -1 -- /bin/true")).exit_code, 64);
}

TEST(TdsimExec, ModuleParametersReadAsATdxHost) {
  const CommandResult r = run_command(
      exec("-- sh -c 'cat /sys/module/kvm_intel/parameters/tdx /sys/module/kvm/parameters/force_emulation_prefix'"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "Y\n0\n");
}

TEST(TdsimExec, TdRawSkipsWithoutATdxKvm) {
  const std::string pages = temp_path("td_raw_skip");
  const CommandResult r = run_command(std::string(TD_RAW_BIN) + " build " + pages);
  std::remove(pages.c_str());
  if (r.exit_code != 4) GTEST_SKIP() << "this host's own KVM offers TDX: " << r.output;
  EXPECT_NE(r.output.find("SKIP: Requirement not met"), std::string::npos) << r.output;
}

TEST(TdsimExec, TdRawBuildsAndMeasuresItsTd) {
  const std::string pages = temp_path("td_raw_build");
  const CommandResult r = run_command(exec(std::string("-- ") + TD_RAW_BIN + " build " + pages));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("PASS: td_raw build"), std::string::npos) << r.output;
  size_t n = 0;
  EXPECT_EQ(predicted_mrtd(pages, &n).size(), 96u);
  EXPECT_EQ(n, 10u);  // 8 low pages, the boot block, the reset page
  std::remove(pages.c_str());
}

#ifdef TDSIM_UKVM_HAVE_ENGINE
TEST(TdsimExec, TdRawRunsItsGuestAndItsMrtdIsThePredictedOne) {
  const std::string pages = temp_path("td_raw_run");
  const CommandResult r = run_command(exec(std::string("--timeout 60 -- ") + TD_RAW_BIN + " run " + pages));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  size_t n = 0;
  const std::string want = predicted_mrtd(pages, &n);
  EXPECT_NE(r.output.find("mrtd " + want), std::string::npos) << "want mrtd " << want << "\n" << r.output;
  std::remove(pages.c_str());
}
#endif

#ifdef TDSIM_UKVM_HAVE_ENGINE
// A `tdsim run` transcript with the backend's name and the event count dropped, and the
// TDCALL rejections a real TD does not report to its host (kvm-tdx never sees them).
std::string comparable(std::string out, const std::string& backend) {
  std::string result, line;
  std::istringstream in(out);
  while (std::getline(in, line)) {
    if (line.find("tdcall rejected") != std::string::npos) continue;
    for (size_t at; (at = line.find(backend)) != std::string::npos;) line.replace(at, backend.size(), "BACKEND");
    if (const size_t at = line.find(" after "); at != std::string::npos && line.rfind("tdsim: ", 0) == 0)
      line = line.substr(0, at) + line.substr(line.find(" (exit"));
    result += line + "\n";
  }
  return result;
}

class KvmTdxUnderExec : public testing::TestWithParam<const char*> {};

// tdsim's own kvm-tdx backend (the hardware path) against the user-space KVM: every test
// guest gives the unicorn backend's events and exit code.
TEST_P(KvmTdxUnderExec, SameEventsAsUnicorn) {
  const std::string guest = GetParam();
  const CommandResult tdx =
      run_command(exec("--timeout 120 -- " + tdsim_cmd("run --backend kvm-tdx --guest " + guest)));
  const CommandResult uc = run_command(tdsim_cmd("run --backend unicorn --guest " + guest));
  EXPECT_EQ(tdx.exit_code, uc.exit_code) << tdx.output;
  EXPECT_EQ(comparable(tdx.output, "kvm-tdx"), comparable(uc.output, "unicorn"));
}

INSTANTIATE_TEST_SUITE_P(
    Guests, KvmTdxUnderExec,
    testing::Values(TDSIM_GUEST_HELLO_ELF, TDSIM_GUEST_ASSERT_ELF, TDSIM_GUEST_BAD_UCALL_ADDRESS_ELF,
                    TDSIM_GUEST_BOOT_STATE_ELF, TDSIM_GUEST_CPUID_REPORT_ELF, TDSIM_GUEST_CXX_TWIN_ELF,
                    TDSIM_GUEST_C_TWIN_ELF, TDSIM_GUEST_EXCEPTION_HANDLER_ELF, TDSIM_GUEST_MR_REPORT_ELF,
                    TDSIM_GUEST_PATCHED_CODE_ELF, TDSIM_GUEST_PRINTF_CASES_ELF, TDSIM_GUEST_PRIVATE_GPA_UCALL_ELF,
                    TDSIM_GUEST_SMP_ELF, TDSIM_GUEST_TDCALL_THRICE_ELF, TDSIM_GUEST_UNHANDLED_UD_ELF,
                    TDSIM_GUEST_VE_PORT_IO_ELF));

// A TD's HLT is no exit: the user-space KVM blocks the halted vCPU inside KVM_RUN as KVM
// does for a TD, and the kvm-tdx backend sees the halt as it would on hardware (its probe
// timer's signal ends KVM_RUN, KVM_GET_MP_STATE says HALTED): unicorn's halt event, at RIP
// 0 (a TD's registers are not readable), well inside the budget.
TEST(TdsimExec, AHaltingGuestHaltsOnKvmTdxAsOnUnicorn) {
  const std::string guest = TDSIM_GUEST_VE_HLT_ELF;
  const CommandResult tdx = run_command(exec("--timeout 60 -- " + tdsim_cmd("run --backend kvm-tdx --guest " + guest)));
  const CommandResult uc = run_command(tdsim_cmd("run --backend unicorn --guest " + guest));
  EXPECT_EQ(uc.exit_code, 5) << uc.output;
  EXPECT_EQ(tdx.exit_code, uc.exit_code) << tdx.output;
  const std::regex rip("halted at rip 0x[0-9a-f]+");
  EXPECT_NE(tdx.output.find("vcpu 0: halted at rip 0x0\n"), std::string::npos) << tdx.output;
  EXPECT_EQ(std::regex_replace(comparable(tdx.output, "kvm-tdx"), rip, "halted"),
            std::regex_replace(comparable(uc.output, "unicorn"), rip, "halted"));
}

TEST(TdsimExec, ConformanceOnKvmTdxUnderExecMatchesUnicorn) {
  const CommandResult tdx = run_command(exec("--timeout 300 -- " + tdsim_cmd("conformance --backend kvm-tdx")));
  const CommandResult uc = run_command(tdsim_cmd("conformance --backend unicorn"));
  EXPECT_EQ(tdx.exit_code, 0) << tdx.output;
  EXPECT_NE(tdx.output.find("# Totals: pass:"), std::string::npos) << tdx.output;
  EXPECT_EQ(comparable(tdx.output, "kvm-tdx"), comparable(uc.output, "unicorn"));
}

// --max-vcpus on kvm-tdx: the backend lowers KVM_CAP_MAX_VCPUS on the VM before
// KVM_TDX_INIT_VM, so the TD's TDG.VP.INFO reports that MAX_VCPUS (R8[63:32]), not KVM's
// limit.
TEST(TdsimExec, KvmTdxPassesMaxVcpusToTheTdThroughKvmCapMaxVcpus) {
  const std::string run = std::string("run --backend kvm-tdx --format json --guest ") + TDSIM_GUEST_TD_CONFIG_REPORT_ELF;
  for (const uint64_t max : {3u, 64u}) {
    const CommandResult r =
        run_command(exec("--timeout 120 -- " + tdsim_cmd(run + " --max-vcpus " + std::to_string(max))));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::istringstream in(r.output);
    bool seen = false;
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || j.value("cmd", "") != "SYNC" || seen) continue;
      seen = true;
      EXPECT_EQ(std::stoull(j["args"][2].get<std::string>(), nullptr, 16), 1u | (max << 32))
          << "TDG.VP.INFO R8: NUM_VCPUS 1, MAX_VCPUS " << max;
    }
    EXPECT_TRUE(seen) << r.output;
  }
}

TEST(TdsimExec, ExplainAndBudgetOnAForeignProgram) {
  // tdsim's kvm-tdx backend runs an endless guest: --max-insns ends the program with 124.
  const CommandResult r = run_command(exec("--max-insns 100000 --timeout 120 -- " +
                                           tdsim_cmd(std::string("run --backend kvm-tdx --guest ") +
                                                     TDSIM_GUEST_LOOP_FOREVER_ELF)));
  EXPECT_EQ(r.exit_code, 124) << r.output;
  EXPECT_NE(r.output.find("instruction budget"), std::string::npos) << r.output;
  // A stub that triple-faults: KVM_EXIT_SHUTDOWN, and with --explain the engine's fault
  // explanation on stderr (a real TD's host gets no more than the exit).
  const std::string stub = std::string("run --backend kvm-tdx --stub ") + TDSIM_STUB_NO_PAE_BIN;
  const CommandResult plain = run_command(exec("-- " + tdsim_cmd(stub)));
  EXPECT_EQ(plain.exit_code, 5) << plain.output;
  EXPECT_NE(plain.output.find("KVM_EXIT_SHUTDOWN"), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find("tdsim-kvm: vCPU 0 shut down"), std::string::npos) << plain.output;
  const CommandResult explained = run_command(exec("--explain -- " + tdsim_cmd(stub)));
  EXPECT_EQ(explained.exit_code, 5) << explained.output;
  EXPECT_NE(explained.output.find("tdsim-kvm: vCPU 0 shut down"), std::string::npos) << explained.output;
  EXPECT_NE(explained.output.find("tdsim-kvm:     cause [cr4-pae-missing]"), std::string::npos) << explained.output;
  const CommandResult t = run_command(exec("--trace boot -- " + tdsim_cmd("run --backend kvm-tdx")));
  EXPECT_EQ(t.exit_code, 0) << t.output;
  EXPECT_NE(t.output.find("tdsim-kvm: "), std::string::npos) << t.output;
}

// The JSON lines of a --format json event file, each parsed (a line that is not JSON fails).
std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// --format json --output FILE: tdsim run's header, the vCPUs' events as the engine
// produced them, a summary whose outcome is the program's exit status and whose event
// count is the lines between (docs/userspace-kvm.md). The schema check of each line
// is tests/outputs' json_schema.exec.
TEST(TdsimExec, JsonEventsOfAForeignProgramGoToAFile) {
  const std::string file = temp_path("exec-events.json");
  const std::string stub = std::string("run --backend kvm-tdx --stub ") + TDSIM_STUB_NO_PAE_BIN;
  const CommandResult fault = run_command(exec("--format json --output " + file + " -- " + tdsim_cmd(stub)));
  EXPECT_EQ(fault.exit_code, 5) << fault.output;
  std::vector<nlohmann::json> j = json_lines(file);
  ASSERT_GE(j.size(), 3u);
  EXPECT_EQ(j.front()["type"], "header");
  EXPECT_EQ(j.front()["schema"], 2);
  EXPECT_EQ(j[1]["type"], "fault") << j[1].dump();
  EXPECT_FALSE(j[1]["explanation"].empty()) << j[1].dump();  // the engine's fault explanation
  EXPECT_EQ(j.back()["type"], "summary");
  EXPECT_EQ(j.back()["backend"], "exec");
  EXPECT_EQ(j.back()["outcome"], "FAULT");
  EXPECT_EQ(j.back()["exit_code"], 5);
  EXPECT_EQ(j.back()["events"], j.size() - 2);

  // The instruction budget: its event (where the vCPU was), BUDGET, 124.
  const CommandResult budget = run_command(exec("--format json --output " + file + " --max-insns 100000 -- " +
                                                tdsim_cmd(std::string("run --backend kvm-tdx --guest ") +
                                                          TDSIM_GUEST_LOOP_FOREVER_ELF)));
  EXPECT_EQ(budget.exit_code, 124) << budget.output;
  j = json_lines(file);  // truncated by the second run: its own header first
  ASSERT_GE(j.size(), 3u);
  EXPECT_EQ(j.front()["type"], "header");
  EXPECT_EQ(j[j.size() - 2]["type"], "budget") << j[j.size() - 2].dump();
  EXPECT_EQ(j[j.size() - 2]["kind"], "instructions");
  EXPECT_EQ(j[j.size() - 2]["limit"], 100000);
  EXPECT_EQ(j.back()["outcome"], "BUDGET");
  EXPECT_EQ(j.back()["exit_code"], 124);

  // A program that passes: DONE; one that skips (exit 4): SKIP with its reason.
  EXPECT_EQ(run_command(exec("--format json --output " + file + " -- " + tdsim_cmd("run --backend kvm-tdx")))
                .exit_code, 0);
  j = json_lines(file);
  ASSERT_GE(j.size(), 2u);
  EXPECT_EQ(j.back()["outcome"], "DONE");
  EXPECT_EQ(run_command(exec("--format json --output " + file + " -- sh -c 'exit 4'")).exit_code, 4);
  j = json_lines(file);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j.back()["outcome"], "SKIP");
  EXPECT_EQ(j.back()["events"], 0);
  EXPECT_EQ(j.back()["skip_reason"], "the program exited with 4 (KSFT_SKIP)");
  std::remove(file.c_str());
}

// Several host threads running vCPUs of one TD (kvm-tdx gives each vCPU a thread), four
// times over: per vCPU the same events as unicorn, by `tdsim diff`.
TEST(TdsimExec, VcpusOnSeveralThreadsAgreeWithUnicorn) {
  for (int i = 0; i < 4; ++i) {
    const CommandResult r = run_command(exec("--timeout 120 -- " +
                                             tdsim_cmd(std::string("diff --backends unicorn,kvm-tdx --vcpus 4 --guest ") +
                                                       TDSIM_GUEST_SMP_ELF)));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("unicorn and kvm-tdx agree"), std::string::npos) << r.output;
  }
}

// A KVM program ends a vCPU's KVM_RUN from another thread or a timer with a signal (the
// host API's per-call budget does): handled on the vCPU's thread, it ends KVM_RUN with
// EINTR, as KVM's pending-signal check does.
TEST(TdsimExec, ASignalEndsKvmRunOnItsThread) {
  const CommandResult r = run_command(exec(std::string("--timeout 120 -- ") + TDSIM_HOST_API_TESTS_BIN +
                                           " --gtest_filter='*EveryRunIsBounded/kvm_tdx*'"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << r.output;
}

// The TD-CPU guests' host tests (CPUID, MSRs, #VE for port I/O and MMIO, and all of
// them in one guest) compare every backend that can run; under exec kvm-tdx can, so a
// real TD's path — the guest's #VE handler, KVM's TDVMCALL handling and the program's
// KVM exits — must give what Unicorn gives. A test that ran only one backend says "only unicorn could run": none may.
TEST(TdsimExec, TdCpuGuestsOnKvmTdxAgreeWithUnicorn) {
  const CommandResult r =
      run_command(exec(std::string("--timeout 500 -- ") + TDSIM_GUEST_TWIN_TESTS_BIN +
                       " --gtest_filter='VeMmio*:TdCpuid*:TdCpuTour*:VePortIo*:Msr*:VeMsr*'"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[  PASSED  ] 8 tests"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("could run"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("SKIPPED"), std::string::npos) << r.output;
}
#endif

TEST(TdsimExec, JsonOptionsAreCheckedBeforeTheProgramRuns) {
  CommandResult r = run_command(exec("--format json -- /bin/true"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--format json needs --output FILE"), std::string::npos) << r.output;
  r = run_command(exec("--output /tmp/x.json -- /bin/true"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--output is for --format json"), std::string::npos) << r.output;
  r = run_command(exec("--format ktap -- /bin/true"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  r = run_command(exec("--format json --output /nonexistent/dir/events.json -- sh -c 'echo ran'"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--output /nonexistent/dir/events.json: cannot create"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ran"), std::string::npos) << r.output;
}

TEST(TdsimExec, ForkPerTestKeepsTheKvm) {
  const CommandResult r = run_command(exec(std::string("-- ") + KVM_FORK_BIN));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(TdsimExec, OwnKvmTdxBackendIsAvailableUnderExec) {
  const CommandResult r = run_command(exec("-- " + tdsim_cmd("probe")));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("backend kvm-tdx: can run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kvm_intel.tdx:       Y"), std::string::npos) << r.output;
}

}  // namespace
