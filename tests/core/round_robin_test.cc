// The common round-robin scheduler over scripted vCPUs: turn order and sizes, budgets
// (reported once, with every running vCPU's position), stops for breakpoints and
// watchpoints, interrupts between rounds.
#include "core/round_robin.h"

#include <gtest/gtest.h>

#include <deque>

namespace tdsim {
namespace {

// Each vCPU runs `remaining` instructions and then ends with a HaltEvent; a turn may be
// scripted to end at a breakpoint or watchpoint after some instructions.
class ScriptedVcpus : public TurnTaker {
 public:
  explicit ScriptedVcpus(std::vector<uint64_t> lengths) : remaining_(std::move(lengths)), done_(remaining_.size()) {}
  uint32_t count() const override { return static_cast<uint32_t>(remaining_.size()); }
  bool stopped(uint32_t v) const override { return remaining_[v] == 0; }
  uint64_t executed(uint32_t v) const override { return done_[v]; }
  std::vector<std::string> describe_position(uint32_t v) const override {
    return {"vcpu " + std::to_string(v) + " at " + std::to_string(done_[v])};
  }
  TurnEnd run_turn(uint32_t v, uint64_t max_insns, const EventSink& sink) override {
    turns.emplace_back(v, max_insns);
    uint64_t n = std::min(max_insns, remaining_[v]);
    TurnEnd end = TurnEnd::kExhausted;
    if (!stops.empty() && stops.front().first == v) {
      n = std::min(n, uint64_t{1});
      end = stops.front().second;
      stops.pop_front();
    }
    remaining_[v] -= n;
    done_[v] += n;
    if (remaining_[v] == 0) {
      sink(HaltEvent{v, done_[v]});
      return TurnEnd::kStopped;
    }
    return end;
  }

  std::vector<std::pair<uint32_t, uint64_t>> turns;  // (vcpu, max_insns) of every turn
  std::deque<std::pair<uint32_t, TurnEnd>> stops;    // the next turn of that vCPU ends so

 private:
  std::vector<uint64_t> remaining_, done_;
};

TEST(RoundRobin, TurnsInIndexOrderUntilEveryVcpuEnded) {
  ScriptedVcpus v({25, 10});
  std::vector<Event> events;
  RoundRobin rr(RunLimits{1000, std::chrono::seconds(30)}, 10);
  const auto p = rr.run(v, [&](const Event& e) { events.push_back(e); });
  EXPECT_EQ(p.why, RoundRobin::Why::kEnded);
  const std::vector<std::pair<uint32_t, uint64_t>> want = {{0, 10}, {1, 10}, {0, 10}, {0, 10}};
  EXPECT_EQ(v.turns, want);
  EXPECT_EQ(rr.instructions(), 35u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<HaltEvent>(events[0]).vcpu, 1u);  // vCPU 1 ended first
  EXPECT_FALSE(rr.over_budget());
}

TEST(RoundRobin, InstructionBudgetIsSummedOverVcpusAndReportedOnce) {
  ScriptedVcpus v({1000, 1000});
  std::vector<Event> events;
  RoundRobin rr(RunLimits{25, std::chrono::seconds(30)}, 10);
  EXPECT_EQ(rr.run(v, [&](const Event& e) { events.push_back(e); }).why, RoundRobin::Why::kBudget);
  EXPECT_EQ(rr.instructions(), 25u);
  EXPECT_EQ(v.turns.back().second, 5u);  // the last turn gets what the budget left
  ASSERT_EQ(events.size(), 1u);
  const auto& b = std::get<BudgetExceededEvent>(events[0]);
  EXPECT_EQ(b.kind, BudgetExceededEvent::Kind::kInstructions);
  EXPECT_EQ(b.limit, 25u);
  EXPECT_EQ(b.explanation, (std::vector<std::string>{"vcpu 0 at 15", "vcpu 1 at 10"}));
  EXPECT_TRUE(rr.over_budget());
  EXPECT_EQ(rr.run(v, [&](const Event& e) { events.push_back(e); }).why, RoundRobin::Why::kBudget);
  EXPECT_EQ(rr.turn(v, 1, 1, [&](const Event& e) { events.push_back(e); }).why, RoundRobin::Why::kBudget);
  EXPECT_EQ(events.size(), 1u);
}

TEST(RoundRobin, BreakpointAndWatchpointEndTheRunAtThatVcpuAndItGoesOnAfter) {
  ScriptedVcpus v({100, 100});
  v.stops = {{1, TurnTaker::TurnEnd::kBreakpoint}, {0, TurnTaker::TurnEnd::kWatchpoint}};
  const EventSink none = [](const Event&) {};
  RoundRobin rr(RunLimits{1000, std::chrono::seconds(30)}, 10);
  auto p = rr.run(v, none);
  EXPECT_EQ(p.why, RoundRobin::Why::kBreakpoint);
  EXPECT_EQ(p.vcpu, 1u);
  p = rr.run(v, none);
  EXPECT_EQ(p.why, RoundRobin::Why::kWatchpoint);
  EXPECT_EQ(p.vcpu, 0u);
  EXPECT_EQ(rr.run(v, none).why, RoundRobin::Why::kEnded);
  EXPECT_EQ(rr.instructions(), 200u);
}

// The wall clock: a mechanism's watchdog cancelling a turn, or a budget used up before
// the first turn, ends the run with one wall-clock budget event.
TEST(RoundRobin, WallClockBudgetFromACancelledTurnOrNoTimeLeft) {
  {
    ScriptedVcpus v({100});
    v.stops = {{0, TurnTaker::TurnEnd::kCancelled}};
    std::vector<Event> events;
    RoundRobin rr(RunLimits{1000, std::chrono::seconds(30)}, 10);
    EXPECT_EQ(rr.run(v, [&](const Event& e) { events.push_back(e); }).why, RoundRobin::Why::kBudget);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(std::get<BudgetExceededEvent>(events[0]).kind, BudgetExceededEvent::Kind::kWallClock);
    EXPECT_EQ(std::get<BudgetExceededEvent>(events[0]).limit, 30'000u);
  }
  ScriptedVcpus v({100});
  std::vector<Event> events;
  RoundRobin rr(RunLimits{1000, std::chrono::milliseconds(0)}, 10);
  EXPECT_EQ(rr.run(v, [&](const Event& e) { events.push_back(e); }).why, RoundRobin::Why::kBudget);
  EXPECT_TRUE(v.turns.empty());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<BudgetExceededEvent>(events[0]).kind, BudgetExceededEvent::Kind::kWallClock);
}

TEST(RoundRobin, InterruptIsPolledAfterEachRound) {
  ScriptedVcpus v({1000, 1000});
  int polls = 0;
  RoundRobin rr(RunLimits{100'000, std::chrono::seconds(30)}, 10);
  const auto p = rr.run(v, [](const Event&) {}, [&] { return ++polls == 3; });
  EXPECT_EQ(p.why, RoundRobin::Why::kInterrupted);
  EXPECT_EQ(v.turns.size(), 6u);  // three rounds of two turns
  EXPECT_EQ(rr.instructions(), 60u);
}

TEST(RoundRobin, OneTurnOnOneVcpu) {
  ScriptedVcpus v({3, 5});
  std::vector<Event> events;
  const EventSink sink = [&](const Event& e) { events.push_back(e); };
  RoundRobin rr(RunLimits{1000, std::chrono::seconds(30)}, 10);
  EXPECT_EQ(rr.turn(v, 1, 1, sink).why, RoundRobin::Why::kTurn);
  EXPECT_EQ(v.executed(1), 1u);
  EXPECT_EQ(v.executed(0), 0u);
  EXPECT_EQ(rr.turn(v, 0, 10, sink).why, RoundRobin::Why::kTurn);  // vCPU 0 ended, vCPU 1 has not
  EXPECT_EQ(rr.turn(v, 0, 1, sink).why, RoundRobin::Why::kTurn);   // an ended vCPU stays put
  EXPECT_EQ(rr.turn(v, 1, 10, sink).why, RoundRobin::Why::kEnded);
  EXPECT_EQ(events.size(), 2u);
}

}  // namespace
}  // namespace tdsim
