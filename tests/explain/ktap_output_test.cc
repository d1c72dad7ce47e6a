// `tdsim run --format ktap`: one KTAP test case per vCPU, events as diagnostics, the
// reason for a failure as a diagnostic right before its result, TIMEOUT and SKIP.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cli/ktap_events.h"

namespace tdsim::cli {
namespace {

std::string render(uint32_t nr_vcpus, const std::vector<Event>& events, Outcome outcome,
                   const std::string& skip_reason = "") {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    KtapPrinter p(f, nr_vcpus);
    for (const Event& e : events) p.event(e);
    p.summary(RunSummary{"unicorn", outcome, events.size(), 0, 0, skip_reason});
  }
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

UcallEvent uc(uint32_t vcpu, abi::UcallCmd cmd) {
  UcallEvent u;
  u.vcpu = vcpu;
  u.cmd = cmd;
  return u;
}

TEST(OutputKtap, EveryVcpuDoneIsAllOk) {
  const std::string s = render(2, {uc(0, abi::kUcallSync), uc(1, abi::kUcallDone), uc(0, abi::kUcallDone)},
                               Outcome::kDone);
  EXPECT_EQ(s.rfind("KTAP version 1\n1..2\n", 0), 0u) << s;
  EXPECT_NE(s.find("# vcpu 0: ucall SYNC"), std::string::npos) << s;
  EXPECT_NE(s.find("\nok 1 vcpu0\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\nok 2 vcpu1\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("not ok"), std::string::npos) << s;
}

TEST(OutputKtap, FaultAssertAndMissingDoneAreNotOkAfterTheirReason) {
  UcallEvent a = uc(1, abi::kUcallAbort);
  a.text = "x # y";
  a.assertion = AssertInfo{"x == 1", "guest.cc", 7};
  FaultEvent f{0, 0x1000, 13, 0, false, "gp"};
  f.explanation = {"vCPU 0: #GP(0x0) at RIP 0x1000", "  cause: none"};
  const std::string s = render(3, {f, a}, Outcome::kGuestAssert);
  EXPECT_NE(s.find("# vcpu 0: exception 13 at rip 0x1000 error code 0x0: gp\n#   vCPU 0: #GP(0x0) at RIP 0x1000\n"
                   "#     cause: none\n"), std::string::npos) << "the fault report as diagnostics\n" << s;
  EXPECT_NE(s.find("# vcpu0 failed: vcpu 0: exception 13 at rip 0x1000 error code 0x0: gp\nnot ok 1 vcpu0\n"),
            std::string::npos) << s;
  EXPECT_NE(s.find("# vcpu1 failed: vcpu 1: ucall ABORT: guest.cc:7: x == 1: x # y\nnot ok 2 vcpu1\n"),
            std::string::npos) << s;
  EXPECT_NE(s.find("# vcpu2 failed: ended without UCALL_DONE\nnot ok 3 vcpu2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("# tdsim: GUEST_ASSERT on unicorn after 2 events (exit 1)"), std::string::npos) << s;
}

TEST(OutputKtap, BudgetIsATimeoutOfTheUnfinishedVcpus) {
  const std::string s = render(2, {uc(0, abi::kUcallDone), BudgetExceededEvent{}}, Outcome::kBudget);
  EXPECT_NE(s.find("\nok 1 vcpu0\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\nnot ok 2 vcpu1 # TIMEOUT budget exceeded: 0 instructions\n"), std::string::npos) << s;
  EXPECT_NE(s.find("(exit 124)"), std::string::npos) << s;
}

TEST(OutputKtap, ABackendThatCannotRunSkipsEveryPlannedVcpu) {
  const std::string s = render(2, {}, Outcome::kSkip, "no /dev/kvm");
  EXPECT_EQ(s, "KTAP version 1\n1..2\nok 1 vcpu0 # SKIP no /dev/kvm\nok 2 vcpu1 # SKIP no /dev/kvm\n"
               "# tdsim: SKIP on unicorn (exit 4)\n");
}

// A guest's CR ends a diagnostic line for readers that split on CR; its ESC drives the
// terminal. Both, and a backslash, come out escaped, so no guest text makes a line of
// its own.
TEST(OutputKtap, GuestControlBytesCannotForgeAResultLine) {
  UcallEvent p = uc(0, abi::kUcallPrintf);
  p.text = "x\rok 1 vcpu0\n\x1b[2K\\";
  const std::string s = render(1, {p, uc(0, abi::kUcallDone)}, Outcome::kDone);
  EXPECT_NE(s.find("# vcpu 0: ucall PRINTF: x\\x0dok 1 vcpu0\\x0a\\x1b[2K\\\\\n"), std::string::npos) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos) << s;
  EXPECT_EQ(s.find('\x1b'), std::string::npos) << s;
}

}  // namespace
}  // namespace tdsim::cli
