// End-to-end smoke test of the guest runtime on the Unicorn backend: built-in stub ->
// _start -> guest_main -> ucalls decoded by the host. Checks what the runtime promises
// (transport, GUEST_* macros, printf, boot state as seen from inside, SMP entry).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/backend.h"
#include "core/run_to_end.h"
#include "sim/session.h"
#include "sim/sim_vm.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/tdx.h"
#include "tests/guests/boot_state_report.h"
#include "tests/guests/printf_cases.h"
#include "tests/guests/report_keys.h"
#include "tests/guests/test_assets.h"

namespace {

using tdsim::UcallEvent;

std::vector<tdsim::Event> run_guest(const char* elf_path, uint32_t nr_vcpus,
                                    tdsim::TdImage* image_out = nullptr) {
  tdsim::LayoutSpec spec;
  spec.guest_elf = tdsim::test::read_asset(elf_path);
  spec.guest_elf_name = elf_path;
  spec.nr_vcpus = nr_vcpus;
  tdsim::TdImage image = tdsim::build_image(spec);
  tdsim::UnicornBackend backend;
  tdsim::RunLimits limits;
  limits.max_insns = 50'000'000;
  limits.timeout = std::chrono::milliseconds(20'000);
  auto events = tdsim::run_collect(backend, image, limits);
  if (image_out != nullptr) *image_out = std::move(image);
  return events;
}

std::vector<UcallEvent> ucalls(const std::vector<tdsim::Event>& events) {
  std::vector<UcallEvent> out;
  for (const auto& e : events) {
    if (const auto* u = std::get_if<UcallEvent>(&e)) out.push_back(*u);
  }
  return out;
}

std::string dump(const std::vector<tdsim::Event>& events) {
  std::string s;
  for (const auto& e : events) s += tdsim::describe(e) + "\n";
  return s;
}

}  // namespace

TEST(GuestRuntimeE2e, HelloPrintsSyncsAndFinishes) {
  const auto events = run_guest(TDSIM_GUEST_HELLO_ELF, 1);
  const auto u = ucalls(events);
  ASSERT_EQ(u.size(), 4u) << dump(events);
  EXPECT_EQ(u[0].cmd, tdsim::abi::kUcallPrintf);
  EXPECT_EQ(u[0].text, "hello from vCPU 0");
  EXPECT_EQ(u[1].cmd, tdsim::abi::kUcallSync);
  EXPECT_EQ(u[1].args[1], 1u);
  EXPECT_EQ(u[2].cmd, tdsim::abi::kUcallPrintf);
  EXPECT_NE(u[2].text.find("answer=42 hex=0000beef"), std::string::npos) << u[2].text;
  EXPECT_EQ(u[3].cmd, tdsim::abi::kUcallDone);
}

TEST(GuestRuntimeE2e, AssertReportsFileLineExpressionAndValues) {
  const auto events = run_guest(TDSIM_GUEST_ASSERT_ELF, 1);
  const auto u = ucalls(events);
  ASSERT_EQ(u.size(), 2u) << dump(events);
  ASSERT_EQ(u[0].args[0], tdsim::test::reports::kAssertLine);
  ASSERT_EQ(u[1].cmd, tdsim::abi::kUcallAbort);
  ASSERT_TRUE(u[1].assertion.has_value());
  const std::string file = u[1].assertion->file;
  EXPECT_TRUE(file.size() >= 9 && file.substr(file.size() - 9) == "assert.cc") << file;
  EXPECT_EQ(u[1].assertion->line, u[0].args[1]);
  EXPECT_EQ(u[1].assertion->expr, tdsim::test::reports::kAssertExpression);
  EXPECT_EQ(u[1].text, tdsim::test::reports::kAssertMessageVcpu0);
}

TEST(GuestRuntimeE2e, PrintfCasesMatchTheTable) {
  const auto events = run_guest(TDSIM_GUEST_PRINTF_CASES_ELF, 1);
  const auto u = ucalls(events);
  std::vector<std::string> expected;
#define EXPECTED(str, ...) expected.push_back(str);
  TDSIM_PRINTF_CASES(EXPECTED)
#undef EXPECTED
  ASSERT_EQ(u.size(), expected.size() + 2) << dump(events);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(u[i].cmd, tdsim::abi::kUcallPrintf);
    EXPECT_EQ(u[i].text, expected[i]) << "case " << i;
  }
  const std::string& trunc = u[expected.size()].text;
  EXPECT_EQ(trunc.size(), tdsim::abi::kUcallBufferLen - 1);
  EXPECT_EQ(trunc.substr(0, 2), "7 ");
  EXPECT_EQ(u.back().cmd, tdsim::abi::kUcallDone);
}

TEST(GuestRuntimeE2e, BootStateSeenFromInsideMatchesTheImage) {
  namespace bs = tdsim::test::boot_state;
  tdsim::TdImage image;
  const auto events = run_guest(TDSIM_GUEST_BOOT_STATE_ELF, 1, &image);
  std::map<uint64_t, uint64_t> v;
  for (const auto& u : ucalls(events)) {
    if (u.cmd == tdsim::abi::kUcallSync) v[u.args[bs::kArgKey]] = u.args[bs::kArgValue];
  }
  ASSERT_EQ(v.size(), bs::kNumKeys) << dump(events);
  EXPECT_EQ(v[bs::kCr3], image.boot.cr3);
  EXPECT_EQ(v[bs::kCr4], image.boot.cr4);
  EXPECT_EQ(v[bs::kCr0] & ~tdsim::abi::kCr0Et, image.boot.cr0 & ~tdsim::abi::kCr0Et);
  EXPECT_EQ(v[bs::kEfer] & (tdsim::abi::kEferLme | tdsim::abi::kEferLma),
            tdsim::abi::kEferLme | tdsim::abi::kEferLma);
  EXPECT_EQ(v[bs::kGdtrBase], image.boot.gdtr.base);
  EXPECT_EQ(v[bs::kGdtrLimit], image.boot.gdtr.limit);
  EXPECT_EQ(v[bs::kIdtrBase], image.boot.idtr.base);
  EXPECT_EQ(v[bs::kIdtrLimit], image.boot.idtr.limit);
  EXPECT_EQ(v[bs::kCs], tdsim::abi::kKernelCs);
  EXPECT_EQ(v[bs::kRflags] & (1u << 9), 0u) << "IF set at guest entry";
  EXPECT_EQ(v[bs::kEntryRsp], image.per_vcpu.at(0).esp_gva);
  EXPECT_EQ(v[bs::kEntryRspAbiOk], 1u);
  EXPECT_EQ(v[bs::kVcpuIndex], 0u);
}

TEST(GuestRuntimeE2e, EveryVcpuPassesTheBarrier) {
  namespace rk = tdsim::test::reports;
  const uint32_t n = 3;
  const auto events = run_guest(TDSIM_GUEST_SMP_ELF, n);
  std::map<uint32_t, int> arrived, released, done;
  for (const auto& u : ucalls(events)) {
    if (u.cmd == tdsim::abi::kUcallSync && u.args[0] == rk::kSmpArrived) {
      EXPECT_EQ(u.args[1], u.vcpu);
      ++arrived[u.vcpu];
    } else if (u.cmd == tdsim::abi::kUcallSync && u.args[0] == rk::kSmpReleased) {
      EXPECT_EQ(u.args[2], n);
      ++released[u.vcpu];
    } else if (u.cmd == tdsim::abi::kUcallDone) {
      ++done[u.vcpu];
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(arrived[i], 1) << "vCPU " << i << "\n" << dump(events);
    EXPECT_EQ(released[i], 1) << "vCPU " << i;
    EXPECT_EQ(done[i], 1) << "vCPU " << i;
  }
}

// A vCPU spinning at the barrier gives up its turn at its PAUSE instead of spinning out
// the slice: vCPU 0, which arrives first and waits for all the others, runs hardly more
// instructions than the last one, which never waits (without the yield it would spin
// a whole slice of 20,000 instructions while each other vCPU has yet to arrive). The
// interleaving is the guest's alone: the same from run to run and with every
// instruction counted by its own hook (as under the instruction trace or a debugger).
TEST(GuestRuntimeE2e, AVcpuWaitingAtAPauseGivesUpItsTurn) {
  namespace rk = tdsim::test::reports;
  const uint32_t n = 4;
  tdsim::LayoutSpec spec;
  spec.guest_elf = tdsim::test::read_asset(TDSIM_GUEST_SMP_ELF);
  spec.guest_elf_name = TDSIM_GUEST_SMP_ELF;
  spec.nr_vcpus = n;
  const tdsim::TdImage image = tdsim::build_image(spec);
  tdsim::RunLimits limits;
  limits.max_insns = 50'000'000;
  limits.timeout = std::chrono::milliseconds(20'000);
  auto run = [&](bool exact) {
    tdsim::sim::Session s(image);
    for (uint32_t i = 0; i < n; ++i) s.vcpu(i).set_exact_count(exact);
    std::vector<std::string> seen;
    s.run(limits, [&](const tdsim::Event& e) { seen.push_back(tdsim::describe(e)); });
    std::vector<uint64_t> executed;
    for (uint32_t i = 0; i < n; ++i) executed.push_back(s.vcpu(i).executed());
    return std::make_pair(seen, executed);
  };
  const auto [events, executed] = run(false);
  std::string all;
  for (const auto& e : events) all += e + "\n";
  ASSERT_EQ(std::count_if(events.begin(), events.end(), [](const std::string& e) { return e.find("DONE") != std::string::npos; }), n) << all;
  ASSERT_EQ(executed.size(), n);
  EXPECT_GT(executed[0], executed[n - 1]) << "vCPU 0 did not wait at the barrier";
  EXPECT_LT(executed[0] - executed[n - 1], 1'000u) << "vCPU 0 spun out its turns: " << executed[0] << " against "
                                                    << executed[n - 1];
  EXPECT_EQ(run(false), std::make_pair(events, executed));
  EXPECT_EQ(run(true), std::make_pair(events, executed));
  // The driver every backend's run() uses (tdsim run) takes the same turns.
  tdsim::sim::SimVm vm(image, tdsim::VmOptions{limits});
  std::vector<std::string> vm_events;
  tdsim::run_to_end(vm, limits, tdsim::sim::Session::kDefaultSlice,
                    [&](const tdsim::Event& e) { vm_events.push_back(tdsim::describe(e)); });
  std::vector<uint64_t> vm_executed;
  for (uint32_t i = 0; i < n; ++i) vm_executed.push_back(vm.vcpu(i).executed());
  EXPECT_EQ(std::make_pair(vm_events, vm_executed), std::make_pair(events, executed));
}

TEST(GuestRuntimeE2e, PrivateGpaMmioIsRefusedWithInvalidOperand) {
  const auto events = run_guest(TDSIM_GUEST_PRIVATE_GPA_UCALL_ELF, 1);
  const auto u = ucalls(events);
  ASSERT_EQ(u.size(), 2u) << dump(events);
  EXPECT_EQ(u[0].args[0], tdsim::test::reports::kPrivateGpaResult);
  EXPECT_EQ(u[0].args[1], tdsim::abi::kVmcallInvalidOperand);
  EXPECT_EQ(u[1].cmd, tdsim::abi::kUcallDone);
}
