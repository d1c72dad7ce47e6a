// The driver every Backend::run goes through (core/run_to_end.h), over scripted vCPUs:
// turns in index order with events in the order they happened, budgets reported once,
// one thread per vCPU where the VM says its vCPUs run concurrently, kicks at the
// deadline and on a failing sink; and Vcpu::run()'s per-call budget.
#include "core/run_to_end.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace tdsim {
namespace {

// A vCPU that reaches scripted events at given instruction counts; the last event of a
// script is terminal (a HaltEvent). `spin`: it never reaches its events and only a kick
// ends its turn (a guest waiting forever).
class ScriptedVcpu : public Vcpu {
 public:
  ScriptedVcpu(uint32_t index, std::vector<uint64_t> at, bool spin = false, RunLimits per_call = {})
      : Vcpu(per_call), index_(index), at_(std::move(at)), spin_(spin) {}
  uint32_t index() const override { return index_; }
  bool ended() const override { return next_ == at_.size(); }
  bool resume() override { return false; }
  uint64_t executed() const override { return done_; }
  std::vector<std::string> describe_position() const override {
    return {"vcpu " + std::to_string(index_) + " at " + std::to_string(done_)};
  }
  void kick() override {
    std::lock_guard lock(mu_);
    kicked_ = true;
    cv_.notify_all();
  }
  std::optional<Event> run_turn(const Turn& turn) override {
    if (ended()) throw std::logic_error("ended");
    threads.insert(std::this_thread::get_id());
    if (spin_) {
      std::unique_lock lock(mu_);
      const bool kicked = turn.deadline == std::chrono::steady_clock::time_point::max()
                              ? (cv_.wait(lock, [&] { return kicked_; }), true)
                              : cv_.wait_until(lock, turn.deadline, [&] { return kicked_; });
      (void)kicked;
      kicked_ = false;
      return std::nullopt;
    }
    const uint64_t target = at_[next_];
    const uint64_t step = std::min(turn.max_insns, target - done_);
    done_ += step;
    if (done_ < target) return std::nullopt;
    ++next_;
    if (next_ == at_.size()) return HaltEvent{index_, done_};
    UcallEvent u;
    u.vcpu = index_;
    u.cmd = abi::kUcallSync;
    u.args[0] = done_;
    return u;
  }

  std::set<std::thread::id> threads;

 private:
  uint32_t index_;
  std::vector<uint64_t> at_;
  bool spin_;
  uint64_t done_ = 0;
  size_t next_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool kicked_ = false;
};

class ScriptedVm : public Vm {
 public:
  ScriptedVm(bool concurrent, std::vector<std::unique_ptr<ScriptedVcpu>> v)
      : concurrent_(concurrent), vcpus_(std::move(v)) {}
  const TdImage& image() const override { return image_; }
  uint32_t nr_vcpus() const override { return static_cast<uint32_t>(vcpus_.size()); }
  Vcpu& vcpu(uint32_t i) override { return *vcpus_.at(i); }
  ScriptedVcpu& scripted(uint32_t i) { return *vcpus_.at(i); }
  bool read(uint64_t, void*, uint64_t) const override { return false; }
  bool write(uint64_t, const void*, uint64_t) override { return false; }
  void set_mmio_read(MmioReadHandler) override {}
  bool concurrent_vcpus() const override { return concurrent_; }

 private:
  bool concurrent_;
  TdImage image_;
  std::vector<std::unique_ptr<ScriptedVcpu>> vcpus_;
};

std::vector<std::unique_ptr<ScriptedVcpu>> vcpus(std::vector<std::vector<uint64_t>> scripts,
                                                 std::set<uint32_t> spinning = {}) {
  std::vector<std::unique_ptr<ScriptedVcpu>> out;
  for (uint32_t i = 0; i < scripts.size(); ++i)
    out.push_back(std::make_unique<ScriptedVcpu>(i, scripts[i], spinning.count(i) > 0));
  return out;
}

std::string where(const Event& e) {
  const auto v = vcpu_of(e);
  if (const auto* u = std::get_if<UcallEvent>(&e)) return std::to_string(*v) + "@" + std::to_string(u->args[0]);
  if (const auto* h = std::get_if<HaltEvent>(&e)) return std::to_string(*v) + " end@" + std::to_string(h->rip);
  if (const auto* b = std::get_if<BudgetExceededEvent>(&e))
    return std::string("budget ") + (b->kind == BudgetExceededEvent::Kind::kInstructions ? "insns" : "time");
  return "?";
}

TEST(RunToEnd, TakingTurnsDeliversEventsInTheOrderTheyHappened) {
  ScriptedVm vm(false, vcpus({{5, 25, 40}, {15, 20}}));
  std::vector<std::string> seen;
  run_to_end(vm, RunLimits{1000, std::chrono::seconds(30)}, 10, [&](const Event& e) { seen.push_back(where(e)); });
  // Turns of 10: v0 [0,10) v1 [0,10) v0 [10,20) v1 [10,20) v0 [20,30) v1 done v0 ...
  const std::vector<std::string> want = {"0@5", "1@15", "1 end@20", "0@25", "0 end@40"};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(vm.scripted(0).threads.size(), 1u);
  EXPECT_EQ(*vm.scripted(0).threads.begin(), std::this_thread::get_id()) << "turns run on the caller's thread";
}

TEST(RunToEnd, TheInstructionBudgetIsSummedOverVcpusAndReportedOnce) {
  ScriptedVm vm(false, vcpus({{500}, {500}}));
  std::vector<Event> seen;
  run_to_end(vm, RunLimits{100, std::chrono::seconds(30)}, 10, [&](const Event& e) { seen.push_back(e); });
  ASSERT_EQ(seen.size(), 1u);
  const auto& b = std::get<BudgetExceededEvent>(seen[0]);
  EXPECT_EQ(b.kind, BudgetExceededEvent::Kind::kInstructions);
  EXPECT_EQ(b.limit, 100u);
  const std::vector<std::string> pos = {"vcpu 0 at 50", "vcpu 1 at 50"};
  EXPECT_EQ(b.explanation, pos);
}

TEST(RunToEnd, ConcurrentVcpusRunOnTheirOwnThreads) {
  ScriptedVm vm(true, vcpus({{5, 10}, {7}, {1, 2, 3}}));
  std::vector<std::string> seen;
  run_to_end(vm, RunLimits{1000, std::chrono::seconds(30)}, 10, [&](const Event& e) { seen.push_back(where(e)); });
  std::multiset<std::string> got(seen.begin(), seen.end());
  const std::multiset<std::string> want = {"0@5", "0 end@10", "1 end@7", "2@1", "2@2", "2 end@3"};
  EXPECT_EQ(got, want);
  std::set<std::thread::id> threads;
  for (uint32_t i = 0; i < 3; ++i) {
    ASSERT_EQ(vm.scripted(i).threads.size(), 1u);
    threads.insert(*vm.scripted(i).threads.begin());
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(RunToEnd, AtTheDeadlineSpinningVcpusAreKickedAndTheBudgetIsReportedOnce) {
  ScriptedVm vm(true, vcpus({{5}, {1}, {1}}, {1, 2}));
  std::vector<std::string> seen;
  std::vector<std::string> positions;
  run_to_end(vm, RunLimits{1000, std::chrono::milliseconds(50)}, 10, [&](const Event& e) {
    seen.push_back(where(e));
    if (const auto* b = std::get_if<BudgetExceededEvent>(&e)) positions = b->explanation;
  });
  const std::vector<std::string> want = {"0 end@5", "budget time"};
  EXPECT_EQ(seen, want);
  const std::vector<std::string> pos = {"vcpu 1 at 0", "vcpu 2 at 0"};
  EXPECT_EQ(positions, pos) << "only the vCPUs still running";
}

TEST(RunToEnd, ASinkThatThrowsStopsEveryVcpuAndTheErrorReachesTheCaller) {
  ScriptedVm vm(true, vcpus({{5}, {1}}, {1}));
  EXPECT_THROW(run_to_end(vm, RunLimits{1000, std::chrono::seconds(30)}, 10,
                          [](const Event&) { throw std::runtime_error("sink failed"); }),
               std::runtime_error);
}

TEST(VcpuRun, EachCallHasItsOwnBudgetAndSaysWhichRanOut) {
  ScriptedVcpu counted(0, {250, 300}, false, RunLimits{100, std::chrono::seconds(30)});
  Event e = counted.run();
  ASSERT_TRUE(std::holds_alternative<BudgetExceededEvent>(e)) << where(e);
  EXPECT_EQ(std::get<BudgetExceededEvent>(e).kind, BudgetExceededEvent::Kind::kInstructions);
  EXPECT_EQ(std::get<BudgetExceededEvent>(e).explanation, std::vector<std::string>{"vcpu 0 at 100"});
  EXPECT_EQ(where(counted.run()), "budget insns");  // 200
  EXPECT_EQ(where(counted.run()), "0@250");          // a new call, a new budget
  EXPECT_EQ(where(counted.run()), "0 end@300");

  ScriptedVcpu spinning(1, {1}, true, RunLimits{100, std::chrono::milliseconds(20)});
  EXPECT_EQ(where(spinning.run()), "budget time");
}

}  // namespace
}  // namespace tdsim
