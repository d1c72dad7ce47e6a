// RunControl over every backend's debug target (BackendCaps::debug_target: Unicorn's
// hooks, plain KVM's single-stepping) on real images: stepping from the reset vector,
// breakpoints, watchpoints, TDCALL steps, interrupts, budgets and several vCPUs. The
// same expectations hold on each.
#include "gdbstub/run_control.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "core/outcome.h"
#include "host/registry.h"
#include "tdsim/abi/tdx.h"
#include "tests/host/backend_params.h"
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

using Stop = RunControl::Stop;

struct Rig {
  TdImage image;
  std::unique_ptr<Vm> vm;
  DebugTarget& target;
  std::vector<Event> events;
  LeadingRunControl driver;
  Rig(const std::string& backend, const char* elf, uint32_t nr_vcpus = 1,
      RunLimits limits = {100'000'000, std::chrono::seconds(30)})
      : image(test::image_for(elf, nr_vcpus)),
        vm(host::find_backend(backend)->make_vm(image, VmOptions{limits}, {})),
        target(*vm->debug_target()),
        driver(target, limits, [this](const Event& e) { events.push_back(e); }) {}
  // A register by name through the facet, as gdb reads it.
  uint64_t reg(uint32_t v, const char* name) {
    const auto id = find_register(name);
    EXPECT_TRUE(id.has_value()) << name;
    uint8_t b[16] = {};
    const unsigned size = x86_register_file()[*id].size;
    EXPECT_TRUE(target.read_register(v, *id, std::span<uint8_t>(b, size))) << name;
    uint64_t x = 0;
    std::memcpy(&x, b, std::min<unsigned>(size, 8));
    return x;
  }
};

class RunControlOn : public ::tdsim::test::OnBackend {};

TEST_P(RunControlOn, FirstStepFromResetVectorLandsOnStubStart) {
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
  EXPECT_EQ(r.reg(0, "rip"), 0xfffffff0u);
  EXPECT_EQ(r.reg(0, "cr2"), 0u) << "a TD starts with CR2 0";
  const auto s = r.driver.step(0);
  EXPECT_EQ(s.why, Stop::kStepped);
  EXPECT_EQ(r.reg(0, "rip"), r.image.stub_gpa);
  EXPECT_EQ(r.driver.instructions(), 1u);
  EXPECT_TRUE(r.events.empty());
}

TEST_P(RunControlOn, BreakpointAtGuestEntryStopsThereInLongModeWithTheVcpuStack) {
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
  r.target.add_breakpoint(r.image.guest_entry);
  const auto s = r.driver.resume(0, nullptr);
  EXPECT_EQ(s.why, Stop::kBreakpoint);
  EXPECT_EQ(s.vcpu, 0u);
  EXPECT_EQ(r.reg(0, "rip"), r.image.guest_entry);
  EXPECT_EQ(r.reg(0, "rsp"), r.image.per_vcpu.at(0).esp_gva);
  EXPECT_EQ(r.reg(0, "efer") & 0x500, 0x500u);  // LME | LMA
  EXPECT_EQ(r.reg(0, "cr2"), 0u) << "no page fault on the way: CR2 as the TD started";
  EXPECT_TRUE(r.events.empty());
  // Continuing from the breakpoint steps off it and runs the guest to DONE.
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

TEST_P(RunControlOn, RemovedBreakpointNoLongerStops) {
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
  r.target.add_breakpoint(r.image.guest_entry);
  EXPECT_TRUE(r.target.remove_breakpoint(r.image.guest_entry));
  EXPECT_FALSE(r.target.remove_breakpoint(r.image.guest_entry));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A TDCALL is stepped over in one step and reaches the platform exactly once (one line
// in the facet's TDCALL log), at every hit of the same site.
TEST_P(RunControlOn, SteppingOverATdcallRunsItExactlyOnce) {
  Rig r(GetParam(), TDSIM_GUEST_TDCALL_THRICE_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.target.add_breakpoint(a);
  int info_steps = 0;
  while (info_steps < 3) {
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kBreakpoint) << "stopped " << info_steps << " TDG.VP.INFO steps in";
    const uint64_t at = r.reg(0, "rip");
    ASSERT_NE(std::find(sites.begin(), sites.end(), at), sites.end());
    if (r.reg(0, "rax") != abi::kTdgVpInfo) continue;  // a ucall's TDCALL (Unicorn)
    const size_t before = r.target.tdcall_log(SIZE_MAX).size();
    ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
    EXPECT_EQ(r.reg(0, "rip"), at + 4);
    const std::vector<std::string> log = r.target.tdcall_log(SIZE_MAX);
    ASSERT_EQ(log.size(), before + 1);
    EXPECT_NE(log.back().find("TDG.VP.INFO"), std::string::npos) << log.back();
    ++info_steps;
  }
  r.target.clear_breakpoints_and_watchpoints();
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A breakpoint set on a TDCALL that already ran once must still stop there (no state
// left behind by the first run of a site may skip it).
TEST_P(RunControlOn, BreakpointOnATdcallThatAlreadyRanStillStops) {
  Rig r(GetParam(), TDSIM_GUEST_TDCALL_THRICE_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.target.add_breakpoint(a);
  uint64_t at = 0;
  for (;;) {  // to the first TDG.VP.INFO, which is then stepped once
    ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
    at = r.reg(0, "rip");
    if (r.reg(0, "rax") == abi::kTdgVpInfo) break;
  }
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  r.target.clear_breakpoints_and_watchpoints();
  r.target.add_breakpoint(at);
  const size_t before = r.target.tdcall_log(SIZE_MAX).size();
  ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
  EXPECT_EQ(r.reg(0, "rip"), at);
  EXPECT_EQ(r.target.tdcall_log(SIZE_MAX).size(), before);  // stopped before the TDCALL ran
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  EXPECT_EQ(r.reg(0, "rip"), at + 4);
  EXPECT_EQ(r.target.tdcall_log(SIZE_MAX).size(), before + 1);
}

TEST_P(RunControlOn, InterruptStopsARunningGuestBetweenSlices) {
  Rig r(GetParam(), TDSIM_GUEST_LOOP_FOREVER_ELF);
  int polls = 0;
  const auto s = r.driver.resume(0, [&] { return ++polls == 3; });
  EXPECT_EQ(s.why, Stop::kInterrupted);
  EXPECT_EQ(polls, 3);
  EXPECT_FALSE(r.target.ended(0));
  EXPECT_GE(r.driver.instructions(), 2 * LeadingRunControl::kDefaultSlice);
  for (const Event& e : r.events) EXPECT_FALSE(std::holds_alternative<BudgetExceededEvent>(e));
}

TEST_P(RunControlOn, InstructionBudgetEndsTheRunWithABudgetEvent) {
  Rig r(GetParam(), TDSIM_GUEST_LOOP_FOREVER_ELF, 1, RunLimits{50'000, std::chrono::seconds(30)});
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kBudget);
  EXPECT_EQ(r.driver.instructions(), 50'000u);
  ASSERT_FALSE(r.events.empty());
  const auto* b = std::get_if<BudgetExceededEvent>(&r.events.back());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kInstructions);
  EXPECT_EQ(b->limit, 50'000u);
  EXPECT_TRUE(r.driver.over_budget());
  const size_t n = r.events.size();
  EXPECT_EQ(r.driver.step(0).why, Stop::kBudget);
  EXPECT_EQ(r.events.size(), n);  // reported once
}

// A write watchpoint on the ucall pool stops after the guest's store into its slot: the
// instruction has run (the slot holds what it wrote) and the ucall has not reached the
// host yet. Removing it lets the run go on to DONE.
TEST_P(RunControlOn, WriteWatchpointStopsAfterTheStoreIntoTheUcallSlot) {
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
  const uint64_t slot = r.image.ucall_pool_gpa;  // identity mapped
  ASSERT_TRUE(r.target.add_watchpoint(WatchKind::kWrite, slot, 8));
  const auto s = r.driver.resume(0, nullptr);
  ASSERT_EQ(s.why, Stop::kWatchpoint);
  EXPECT_EQ(s.watch, WatchKind::kWrite);
  EXPECT_EQ(s.watch_addr, slot);
  uint64_t v = 0;
  ASSERT_EQ(r.target.read_memory(0, slot, &v, sizeof v), sizeof v);
  EXPECT_NE(v, 0u);
  EXPECT_TRUE(r.events.empty());
  // Stepping on from the watchpoint stop runs the next instruction.
  EXPECT_EQ(r.driver.step(0).why, Stop::kStepped);
  EXPECT_TRUE(r.target.remove_watchpoint(WatchKind::kWrite, slot, 8));
  EXPECT_FALSE(r.target.remove_watchpoint(WatchKind::kWrite, slot, 8));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// The stub reads the boot parameters and nothing writes them: a read or access
// watchpoint there fires, a write watchpoint never does.
TEST_P(RunControlOn, WatchpointKindsMatchTheAccess) {
  const uint64_t cr3_field = 0xffff0004;  // TdBootParams.cr3
  for (const WatchKind k : {WatchKind::kRead, WatchKind::kAccess}) {
    Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
    ASSERT_TRUE(r.target.add_watchpoint(k, cr3_field, 4));
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kWatchpoint);
    EXPECT_EQ(s.watch, k);
    EXPECT_EQ(s.watch_addr, cr3_field);
    // The stop is after the load: the next instruction moves what it read into CR3.
    uint8_t insn[3] = {};
    uint64_t rip = r.reg(0, "rip");
    ASSERT_EQ(r.target.read_memory(0, rip, insn, sizeof insn), sizeof insn);
    EXPECT_EQ(insn[0], 0x0f);
    EXPECT_EQ(insn[1], 0x22);  // MOV to a control register
  }
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF);
  ASSERT_TRUE(r.target.add_watchpoint(WatchKind::kWrite, cr3_field, 4));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

TEST_P(RunControlOn, EveryVcpuHitsTheEntryBreakpointWithItsOwnStack) {
  Rig r(GetParam(), TDSIM_GUEST_HELLO_ELF, 2);
  r.target.add_breakpoint(r.image.guest_entry);
  for (uint32_t v = 0; v < 2; ++v) {
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kBreakpoint);
    EXPECT_EQ(s.vcpu, v);
    EXPECT_EQ(r.reg(v, "rip"), r.image.guest_entry);
    EXPECT_EQ(r.reg(v, "rsp"), r.image.per_vcpu.at(v).esp_gva);
    EXPECT_EQ(r.reg(v, "rsi"), v);
  }
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 2), Outcome::kDone);
  EXPECT_EQ(r.driver.step(1).why, Stop::kEnded);
}

INSTANTIATE_TEST_SUITE_P(Backends, RunControlOn,
                         ::testing::ValuesIn(::tdsim::test::backends_with([](const host::BackendCaps& c) {
                           return c.debug_target;
                         })),
                         ::tdsim::test::backend_param_name);

}  // namespace
}  // namespace tdsim::gdbstub
