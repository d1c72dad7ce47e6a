// Faults a backend could not look into (kvm-tdx: a real TD's state is hidden) are
// explained by replaying the image on a backend that can (host/replay.h). The input
// events are what kvm-tdx reports for a shutdown: vCPU, no RIP, no vector, no
// explanation; no TDX host is needed to check what the replay attaches to them.
#include "host/replay.h"

#include <gtest/gtest.h>

#include "broken_image.h"
#include "tests/guests/test_assets.h"

namespace tdsim::broken {
namespace {

FaultEvent td_shutdown(uint32_t vcpu) {
  return FaultEvent{vcpu, 0, -1, 0, true, "triple fault (KVM_EXIT_SHUTDOWN)", {}};
}

bool contains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const std::string& l : lines)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}

TEST(Replay, OnlyFaultsWithoutACauseFromAnotherBackendAreReplayed) {
  EXPECT_TRUE(host::wants_replay(td_shutdown(0), /*backend_is_in_process=*/false));
  EXPECT_FALSE(host::wants_replay(td_shutdown(0), /*backend_is_in_process=*/true));
  FaultEvent explained = td_shutdown(0);
  explained.explanation.push_back("vCPU 0: triple fault at RIP 0x1000");
  explained.explanation.push_back("cause: no rule matched; see the state below");
  EXPECT_TRUE(host::wants_replay(explained, false)) << "plain KVM's state explained nothing";
  explained.explanation.push_back("cause [no-idt] boot_params.idtr: no IDT (limit 0)");
  EXPECT_FALSE(host::wants_replay(explained, false));
}

TEST(Replay, AStubWithoutLgdtIsExplainedAsInTheSimulator) {
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, TDSIM_BROKEN_NO_LGDT_BIN);
  const std::vector<std::string> lines = host::replay_explanation(im, td_shutdown(0), RunLimits{});
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("replay on unicorn (the same image, deterministic): vcpu 0: ", 0), 0u) << joined(lines);
  EXPECT_TRUE(contains(lines, "cause [gdt-not-loaded]")) << joined(lines);
  EXPECT_TRUE(contains(lines, "ljmp 8:0xffffffed")) << joined(lines);
}

TEST(Replay, AVcpuThatEndsWellInTheReplaySaysSo) {
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  const std::vector<std::string> lines = host::replay_explanation(im, td_shutdown(0), RunLimits{});
  ASSERT_EQ(lines.size(), 1u) << joined(lines);
  EXPECT_NE(lines[0].find("ended without a fault there"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("DONE"), std::string::npos) << lines[0];
}

TEST(Replay, AReplayThatRunsOutOfBudgetSaysSo) {
  const TdImage im = image(TDSIM_GUEST_LOOP_FOREVER_ELF);
  const std::vector<std::string> lines =
      host::replay_explanation(im, td_shutdown(0), RunLimits{200'000, std::chrono::seconds(10)});
  ASSERT_EQ(lines.size(), 1u) << joined(lines);
  EXPECT_NE(lines[0].find("did not fault within the replay's budget"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace tdsim::broken
