// TdDriver on real images: stepping from the reset vector, breakpoints, TDCALL steps,
// interrupts, budgets and several vCPUs.
#include "gdbstub/td_driver.h"

#include <gtest/gtest.h>

#include "core/outcome.h"
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

using Stop = TdDriver::Stop;

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
  std::vector<Event> events;
  TdDriver driver;
  Rig(const char* elf, uint32_t nr_vcpus = 1, RunLimits limits = {100'000'000, std::chrono::seconds(30)})
      : image(test::image_for(elf, nr_vcpus)),
        session(image),
        driver(session, limits, [this](const Event& e) { events.push_back(e); }) {}
};

TEST(TdDriver, FirstStepFromResetVectorLandsOnStubStart) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), 0xfffffff0u);
  const auto s = r.driver.step(0);
  EXPECT_EQ(s.why, Stop::kStepped);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), r.image.stub_gpa);
  EXPECT_EQ(r.driver.instructions(), 1u);
  EXPECT_TRUE(r.events.empty());
}

TEST(TdDriver, BreakpointAtGuestEntryStopsThereInLongModeWithTheVcpuStack) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  r.driver.add_breakpoint(r.image.guest_entry);
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

TEST(TdDriver, RemovedBreakpointNoLongerStops) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  r.driver.add_breakpoint(r.image.guest_entry);
  EXPECT_TRUE(r.driver.remove_breakpoint(r.image.guest_entry));
  EXPECT_FALSE(r.driver.remove_breakpoint(r.image.guest_entry));
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A ucall TDCALL (R11 = 48, MMIO write) is stepped over in one step and reaches the
// sink exactly once, the first time at a site (no site hook yet) and later ones alike.
TEST(TdDriver, SteppingOverUcallTdcallRunsItExactlyOnce) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.driver.add_breakpoint(a);
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
  r.driver.clear_breakpoints();
  EXPECT_EQ(r.driver.resume(0, nullptr).why, Stop::kEnded);
  EXPECT_EQ(classify(r.events, 1), Outcome::kDone);
}

// A breakpoint set on a TDCALL that already ran once must still stop there (no state
// left behind by the first run of a site may skip it).
TEST(TdDriver, BreakpointOnATdcallThatAlreadyRanStillStops) {
  Rig r(TDSIM_GUEST_HELLO_ELF);
  const auto sites = test::tdcall_sites(r.image);
  ASSERT_FALSE(sites.empty());
  for (uint64_t a : sites) r.driver.add_breakpoint(a);
  uint64_t at = 0;
  for (;;) {  // to the first ucall TDCALL, which is then stepped once
    ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
    at = reg(r.session, 0, UC_X86_REG_RIP);
    if (reg(r.session, 0, UC_X86_REG_R11) == 48) break;
  }
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  r.driver.clear_breakpoints();
  r.driver.add_breakpoint(at);
  const size_t before = r.events.size();
  ASSERT_EQ(r.driver.resume(0, nullptr).why, Stop::kBreakpoint);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), at);
  EXPECT_EQ(r.events.size(), before);  // stopped before the TDCALL ran
  ASSERT_EQ(r.driver.step(0).why, Stop::kStepped);
  EXPECT_EQ(reg(r.session, 0, UC_X86_REG_RIP), at + 4);
  EXPECT_EQ(r.events.size(), before + 1);
}

TEST(TdDriver, InterruptStopsARunningGuestBetweenSlices) {
  Rig r(TDSIM_GUEST_LOOP_FOREVER_ELF);
  int polls = 0;
  const auto s = r.driver.resume(0, [&] { return ++polls == 3; });
  EXPECT_EQ(s.why, Stop::kInterrupted);
  EXPECT_EQ(polls, 3);
  EXPECT_FALSE(r.session.vcpu(0).stopped());
  EXPECT_GE(r.driver.instructions(), 2 * sim::Session::kDefaultSlice);
  for (const Event& e : r.events) EXPECT_FALSE(std::holds_alternative<BudgetExceededEvent>(e));
}

TEST(TdDriver, InstructionBudgetEndsTheRunWithABudgetEvent) {
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

TEST(TdDriver, EveryVcpuHitsTheEntryBreakpointWithItsOwnStack) {
  Rig r(TDSIM_GUEST_HELLO_ELF, 2);
  r.driver.add_breakpoint(r.image.guest_entry);
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
