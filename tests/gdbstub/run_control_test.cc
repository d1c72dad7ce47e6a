// RunControl over the Unicorn debug target on real images: stepping from the reset
// vector, breakpoints, watchpoints, TDCALL steps, interrupts, budgets and several vCPUs.
#include "gdbstub/run_control.h"

#include <gtest/gtest.h>

#include "core/outcome.h"
#include "sim/sim_debug_target.h"
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

using Stop = RunControl::Stop;

uint64_t reg(sim::Session& s, uint32_t v, int id) {
  uint64_t x = 0;
  uc_reg_read(s.vcpu(v).engine(), id, &x);
  return x;
}

uint64_t efer(sim::Session& s, uint32_t v) {
  uc_x86_msr m{0xc0000080, 0};
  uc_reg_read(s.vcpu(v).engine(), UC_X86_REG_MSR, &m);
  return m.value;
}

struct Rig {
  TdImage image;
  sim::Session session;
  sim::SimDebugTarget target;
  std::vector<Event> events;
  RunControl driver;
  Rig(const char* elf, uint32_t nr_vcpus = 1, RunLimits limits = {100'000'000, std::chrono::seconds(30)})
      : image(test::image_for(elf, nr_vcpus)),
        session(image),
        target(session),
        driver(target, limits, [this](const Event& e) { events.push_back(e); }) {}
};

TEST(RunControl, FirstStepFromResetVectorLandsOnStubStart) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), 0xfffffff0u);
  const auto s = r.driver.step(0);
  EXPECT_EQ(s.why, Stop::kStepped);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), r.image.stub_gpa);
  EXPECT_EQ(r.driver.instructions(), 1u);
  EXPECT_TRUE(r.events.empty());
}

TEST(RunControl, BreakpointAtGuestEntryStopsThereInLongModeWithTheVcpuStack) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  r.target.add_breakpoint(r.image.guest_entry);
  const auto s = r.driver.resume(0, nullptr);
  EXPECT_EQ(s.why, Stop::kBreakpoint);
  EXPECT_EQ(s.vcpu, 0u);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), r.image.guest_entry);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RSP), r.image.per_vcpu.at(0).esp_gva);
  EXPECT_EQ(efer(r.session, 0) & 0x500, 0x500u);  // LME | LMA
  EXPECT_TRUE(r.events.empty());
  // Continuing from the breakpoint steps off it and runs the guest to DONE.
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

TEST(RunControl, RemovedBreakpointNoLongerStops) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  r.target.add_breakpoint(r.image.guest_entry);
  EXPECT_TRUE(r.target.remove_breakpoint(r.image.guest_entry));
  EXPECT_FALSE(r.target.remove_breakpoint(r.image.guest_entry));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A ucall TDCALL (R11 = 48, MMIO write) is stepped over in one step and reaches the
// sink exactly once, the first time at a site (no site hook yet) and later ones alike.
TEST(RunControl, SteppingOverUcallTdcallRunsItExactlyOnce) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.target.add_breakpoint(a);
  int ucall_steps = 0;
  while (ucall_steps < 3) {
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kBreakpoint) << "stopped " << ucall_steps << " ucall steps in";
    const uint64_t at = reg(r.session, 0, UC_X86_REG_RIP);
    ASSERT_NE(std::find(sites.begin(), sites.end(), at), sites.end());
    if (reg(r.session, 0, UC_X86_REG_R11) != 48) continue;
    const size_t before = r.events.size();
    ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
    EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), at + 4);
    ASSERT_EQ(r.events.size(), before + 1);
    EXPECT_TRUE(std::holds_alternative<UcallEvent>(r.events.back()));
    ++ucall_steps;
  }
  r.target.clear_breakpoints_and_watchpoints();
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A breakpoint set on a TDCALL that already ran once must still stop there (no state
// left behind by the first run of a site may skip it).
TEST(RunControl, BreakpointOnATdcallThatAlreadyRanStillStops) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.target.add_breakpoint(a);
  uint64_t at = 0;
  for (;;) {  // to the first ucall TDCALL, which is then stepped once
    ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
    at = reg(r.session, 0, UC_X86_REG_RIP);
    if (reg(r.session, 0, UC_X86_REG_R11) == 48) break;
  }
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  r.target.clear_breakpoints_and_watchpoints();
  r.target.add_breakpoint(at);
  const size_t before = r.events.size();
  ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), at);
  EXPECT_EQ(r.events.size(), before);  // stopped before the TDCALL ran
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), at + 4);
  EXPECT_EQ(r.events.size(), before + 1);
}

TEST(RunControl, InterruptStopsARunningGuestBetweenSlices) {
  Rig r(TDSIM_GUEST_LOOP_FOREVER_ELF);
  int polls = 0;
  const auto s = r.driver.resume(0, [&] { return ++polls == 3; });
  EXPECT_EQ(s.why, Stop::kInterrupted);
  EXPECT_EQ(polls, 3);
  EXPECT_FALSE(r.session.vcpu(0).stopped());
  EXPECT_GE(r.driver.instructions(), 2 * RunControl::kDefaultSlice);
  for (const Event& e : r.events) EXPECT_FALSE(std::holds_alternative<BudgetExceededEvent>(e));
}

TEST(RunControl, InstructionBudgetEndsTheRunWithABudgetEvent) {
  Rig r(TDSIM_GUEST_LOOP_FOREVER_ELF, 1, RunLimits{50'000, std::chrono::seconds(30)});
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
TEST(RunControl, WriteWatchpointStopsAfterTheStoreIntoTheUcallSlot) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
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
TEST(RunControl, WatchpointKindsMatchTheAccess) {
  const uint64_t cr3_field = 0xffff0004;  // TdBootParams.cr3
  for (const WatchKind k : {WatchKind::kRead, WatchKind::kAccess}) {
    Rig r(TDSIM_GUEST_HELLO_ELF);
    ASSERT_TRUE(r.target.add_watchpoint(k, cr3_field, 4));
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kWatchpoint);
    EXPECT_EQ(s.watch, k);
    EXPECT_EQ(s.watch_addr, cr3_field);
    // The stop is after the load: the next instruction moves what it read into CR3.
    uint8_t insn[3] = {};
    uint64_t rip = reg(r.session, 0, UC_X86_REG_RIP);
    ASSERT_EQ(r.target.read_memory(0, rip, insn, sizeof insn), sizeof insn);
    EXPECT_EQ(insn[0], 0x0f);
    EXPECT_EQ(insn[1], 0x22);  // MOV to a control register
  }
  Rig r(TDSIM_GUEST_HELLO_ELF);
  ASSERT_TRUE(r.target.add_watchpoint(WatchKind::kWrite, cr3_field, 4));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

TEST(RunControl, EveryVcpuHitsTheEntryBreakpointWithItsOwnStack) {
  Rig r(TDSIM_GUEST_HELLO_ELF, 2);
  r.target.add_breakpoint(r.image.guest_entry);
  for (uint32_t v = 0; v < 2; ++v) {
    const auto s = r.driver.resume(0, nullptr);
    ASSERT_EQ(s.why, Stop::kBreakpoint);
    EXPECT_EQ(s.vcpu, v);
    EXPECT_EQ(reg(r.session, v, UC_X86_REG_RIP), r.image.guest_entry);
    EXPECT_EQ(reg(r.session, v, UC_X86_REG_RSP), r.image.per_vcpu.at(v).esp_gva);
    EXPECT_EQ(reg(r.session, v, UC_X86_REG_RSI), v);
  }
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 2), Outcome::kDone);
  EXPECT_EQ(r.driver.step(1).why, Stop::kEnded);
}

}  // namespace
}  // namespace tdsim::gdbstub
