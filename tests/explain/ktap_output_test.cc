// `tdsim run --format ktap`: one KTAP test case per vCPU, events as diagnostics.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cli/ktap_events.h"

namespace tdsim::cli {
namespace {

std::string render(uint32_t nr_vcpus, const std::vector<Event>& events, Outcome outcome) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    KtapPrinter p(f, nr_vcpus);
    for (const Event& e : events) p.event(e);
    p.summary(RunSummary{"unicorn", outcome, events.size()});
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

TEST(OutputKtap, FaultAssertAndMissingDoneAreNotOkWithReason) {
  UcallEvent a = uc(1, abi::kUcallAbort);
  a.text = "x # y";
  a.assertion = AssertInfo{"x == 1", "guest.cc", 7};
  const std::string s = render(3, {FaultEvent{0, 0x1000, 13, 0, false, "gp"}, a}, Outcome::kGuestAssert);
  EXPECT_NE(s.find("not ok 1 vcpu0 # vcpu 0: exception 13"), std::string::npos) << s;
  EXPECT_NE(s.find("not ok 2 vcpu1 # vcpu 1: ucall ABORT: guest.cc:7: x == 1: x   y"), std::string::npos) << s;
  EXPECT_NE(s.find("not ok 3 vcpu2 # ended without UCALL_DONE"), std::string::npos) << s;
  EXPECT_NE(s.find("# tdsim: GUEST_ASSERT on unicorn"), std::string::npos) << s;
}

TEST(OutputKtap, BudgetFailsTheUnfinishedVcpus) {
  const std::string s = render(2, {uc(0, abi::kUcallDone), BudgetExceededEvent{}}, Outcome::kBudget);
  EXPECT_NE(s.find("\nok 1 vcpu0\n"), std::string::npos) << s;
  EXPECT_NE(s.find("not ok 2 vcpu1 # budget exceeded"), std::string::npos) << s;
}

}  // namespace
}  // namespace tdsim::cli
