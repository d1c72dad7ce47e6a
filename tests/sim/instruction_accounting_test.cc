// Instruction accounting on Unicorn: per translation block by default (a slice or budget
// ends at the first block boundary past it), exact per instruction when asked (a
// debugger), and port I/O stopping before the next instruction either way.
#include <gtest/gtest.h>

#include <atomic>

#include "sim_test_util.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::simtest {
namespace {

// mov ecx, 1000 + 1000 x 5 instructions + the HLT, which is counted with its block.
constexpr uint64_t kAluLoopInsns = 1 + 5 * 1000 + 1;

TEST(InstructionAccounting, BlockCountsAddUpToTheInstructionsRun) {
  TdImage im = make_boot_image(alu_loop64());
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(test::hlt_shutdown(ev[0]));
  EXPECT_EQ(test::hlt_shutdown(ev[0])->rip, kCode + 16);
  // The boot stub's instructions come first; the loop's are all counted, none twice.
  const uint64_t boot = s.vcpu(0).executed() - kAluLoopInsns;
  EXPECT_GT(boot, 10u);
  EXPECT_LT(boot, 200u);
}

TEST(InstructionAccounting, ASliceEndsAtTheFirstBlockBoundaryPastIt) {
  TdImage im = make_boot_image(loop_forever64());
  sim::Session s(im);
  const std::atomic<bool> never{false};
  sim::Vcpu& v = s.vcpu(0);
  const EventSink sink = [](const Event&) { FAIL() << "no event expected"; };
  ASSERT_EQ(v.run_slice(1000, sink, never), sim::Vcpu::SliceEnd::kExhausted);
  const uint64_t first = v.executed();
  EXPECT_GE(first, 1000u);
  EXPECT_LT(first, 1000u + 512u);  // a translation block holds at most 512 instructions
  // `jmp .` is a block of one instruction: the slice ends exactly at its limit.
  ASSERT_EQ(v.run_slice(1000, sink, never), sim::Vcpu::SliceEnd::kExhausted);
  EXPECT_EQ(v.executed(), first + 1000);
}

TEST(InstructionAccounting, ExactCountingStopsAtEveryInstruction) {
  TdImage im = make_boot_image(alu_loop64());
  sim::Session s(im);
  const std::atomic<bool> never{false};
  sim::Vcpu& v = s.vcpu(0);
  v.set_exact_count(true);
  const EventSink sink = [](const Event&) {};
  for (uint64_t i = 1; i <= 40; ++i) {
    ASSERT_EQ(v.run_slice(1, sink, never), sim::Vcpu::SliceEnd::kExhausted);
    ASSERT_EQ(v.executed(), i);
  }
  // Back to block counting for the rest: the run still ends at the HLT, every
  // instruction counted once.
  v.set_exact_count(false);
  std::vector<Event> ev;
  while (v.run_slice(100, [&](const Event& e) { ev.push_back(e); }, never) != sim::Vcpu::SliceEnd::kStopped) {
  }
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(test::hlt_shutdown(ev[0]));
  sim::Session fresh(im);
  fresh.run(limits(), [](const Event&) {});
  EXPECT_EQ(v.executed(), fresh.vcpu(0).executed());
}

// The OUT's #VE is taken before the instruction after it, which shares its translation
// block: the store never happens (no IDT here, so the vCPU shuts down at the OUT).
TEST(InstructionAccounting, PortIoInTheMiddleOfABlockStopsBeforeTheNextInstruction) {
  TdImage im = make_boot_image(port_out_store64());
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 1u);
  const auto* f = std::get_if<FaultEvent>(&ev[0]);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rip, kCode + 2);
  EXPECT_TRUE(f->triple_fault);
  EXPECT_EQ(out_cells(s)[0], 0u) << "the store after the OUT ran";
}

}  // namespace
}  // namespace tdsim::simtest
