// `tdsim run` end to end: what a user sees and the documented exit codes.
#include <gtest/gtest.h>

#include "plain_kvm_la57.h"
#include "run_command.h"

namespace {

TEST(CliRun, DefaultRunBootsHelloAndEndsDone) {
  CommandResult r = run_command(tdsim("run"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vcpu 0: ucall PRINTF: hello from vCPU 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vcpu 0: ucall SYNC"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vcpu 0: ucall DONE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tdsim: DONE on unicorn"), std::string::npos) << r.output;
}

TEST(CliRun, FourVcpusAllReachDone) {
  CommandResult r = run_command(tdsim("run --vcpus 4"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (int v = 0; v < 4; ++v)
    EXPECT_NE(r.output.find("vcpu " + std::to_string(v) + ": ucall DONE"), std::string::npos) << r.output;
}

TEST(CliRun, GuestAssertExitsOneAndNamesFileAndLine) {
  CommandResult r = run_command(tdsim(std::string("run --guest ") + TDSIM_GUEST_ASSERT_ELF));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("ucall ABORT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("assert.cc:"), std::string::npos) << r.output;
}

TEST(CliRun, EndlessLoopExits124OnInstructionBudget) {
  CommandResult r = run_command(tdsim(std::string("run --max-insns 200000 --guest ") + TDSIM_GUEST_LOOP_FOREVER_ELF));
  EXPECT_EQ(r.exit_code, 124) << r.output;  // kselftest runner: timeout
  EXPECT_NE(r.output.find("budget exceeded: 200000 instructions"), std::string::npos) << r.output;
}

TEST(CliRun, EndlessLoopExits124OnWallClock) {
  CommandResult r = run_command(tdsim(std::string("run --max-insns 100000000000 --timeout 0.3 --guest ") +
                                      TDSIM_GUEST_LOOP_FOREVER_ELF));
  EXPECT_EQ(r.exit_code, 124) << r.output;  // kselftest runner: timeout
  EXPECT_NE(r.output.find("ms wall clock"), std::string::npos) << r.output;
}

TEST(CliRun, BrokenStubExitsFiveWithFault) {
  CommandResult r = run_command(tdsim(std::string("run --stub ") + TDSIM_STUB_NO_PAE_BIN));
  EXPECT_EQ(r.exit_code, 5) << r.output;  // not 2/3, which kselftest reads as XFAIL/XPASS
  EXPECT_NE(r.output.find("tdsim: FAULT"), std::string::npos) << r.output;
}

// 5-level paging: Unicorn walks a PML5; plain KVM runs it only where the guest's CPUID
// shows LA57 (this host's KVM answers leaf 7 itself, without it), else it is a skip
// naming the limit (exit 4), never a confusing fault.
TEST(CliRun, FiveLevelPagingRunsOnUnicornAndIsASkipOnPlainKvm) {
  CommandResult r = run_command(tdsim("run --gpaw 52 --paging-levels 5"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(tdsim("run --paging-levels 5"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("GPAW 52"), std::string::npos) << r.output;
  r = run_command(tdsim("run --gpaw 52 --paging-levels 5 --backend kvm"));
  if (tdsim_test::plain_kvm_shows_la57()) {
    EXPECT_EQ(r.exit_code, 0) << r.output;
  } else {
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_NE(r.output.find("LA57"), std::string::npos) << r.output;
  }
}

}  // namespace
