// A lone vCPU with no instruction budget runs with no per-block hook (sim/vcpu.h,
// run_slice): every event stream must be the one the counted run gives, port I/O,
// CPUID and MSR #VEs still stop before the next instruction, host writes into guest
// code still take effect, and the wall clock or a request from another thread still end
// an endless loop.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "guest_code.h"
#include "sim/session.h"
#include "sim_test_util.h"
#include "tests/guests/test_assets.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::simtest {
namespace {

TdImage guest_image(const char* elf) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.guest_elf_name = elf;
  return build_image(spec);
}

std::string dump(const std::vector<Event>& ev) {
  std::string s;
  for (const Event& e : ev) s += describe(e) + "\n";
  return s;
}

std::vector<Event> session_run(sim::Session& s, const RunLimits& l) {
  std::vector<Event> ev;
  s.run(l, [&](const Event& e) { ev.push_back(e); });
  return ev;
}

const RunLimits kUncounted{UINT64_MAX, std::chrono::seconds(20)};
const RunLimits kCounted{100'000'000, std::chrono::seconds(20)};

class UncountedGuest : public ::testing::TestWithParam<const char*> {};

// The same session runs uncounted, counted, uncounted again (the block hook goes and
// comes back), and a fresh session runs uncounted through the backend: one stream.
TEST_P(UncountedGuest, EventsAreTheCountedRunsEvents) {
  const TdImage im = guest_image(GetParam());
  sim::Session s(im);
  const std::vector<Event> first = session_run(s, kUncounted);
  ASSERT_FALSE(first.empty());
  const std::string want = dump(first);
  EXPECT_EQ(dump(session_run(s, kCounted)), want);
  EXPECT_EQ(dump(session_run(s, kUncounted)), want);
  EXPECT_EQ(dump(run_image(im, kUncounted)), want);
  // The counted run's stream from a fresh session, as every run before this change gave.
  sim::Session counted(im);
  EXPECT_EQ(dump(session_run(counted, kCounted)), want);
}

INSTANTIATE_TEST_SUITE_P(Guests, UncountedGuest,
                         ::testing::Values(TDSIM_GUEST_HELLO_ELF, TDSIM_GUEST_VE_PORT_IO_ELF, TDSIM_GUEST_VE_CPUID_ELF,
                                           TDSIM_GUEST_VE_MSR_ELF, TDSIM_GUEST_MR_REPORT_ELF,
                                           TDSIM_GUEST_PATCHED_CODE_ELF, TDSIM_GUEST_PRINTF_CASES_ELF,
                                           TDSIM_GUEST_EXCEPTION_HANDLER_ELF, TDSIM_GUEST_TDCALL_THRICE_ELF,
                                           TDSIM_GUEST_UNHANDLED_UD_ELF, TDSIM_GUEST_ASSERT_ELF));

// The OUT's #VE stops before the store that shares its block, as with a count.
TEST(Uncounted, PortIoStopsBeforeTheNextInstruction) {
  const TdImage im = make_boot_image(port_out_store64());
  sim::Session s(im);
  const std::vector<Event> ev = session_run(s, kUncounted);
  ASSERT_EQ(ev.size(), 1u);
  const auto* f = std::get_if<FaultEvent>(&ev[0]);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->rip, kCode + 2);
  sim::Session counted(im);
  EXPECT_EQ(dump(session_run(counted, kCounted)), dump(ev));
}

TEST(Uncounted, HltWithoutAVeGateIsReported) {
  const TdImage im = make_boot_image(alu_loop64());
  sim::Session s(im);
  const std::vector<Event> ev = session_run(s, kUncounted);
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  ASSERT_TRUE(test::hlt_shutdown(ev[0]));
  EXPECT_EQ(test::hlt_shutdown(ev[0])->rip, kCode + 16);
}

TEST(Uncounted, TheWallClockEndsAnEndlessLoop) {
  const TdImage im = make_boot_image(loop_forever64());
  sim::Session s(im);
  const std::vector<Event> ev = session_run(s, RunLimits{UINT64_MAX, std::chrono::milliseconds(100)});
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  const auto* b = std::get_if<BudgetExceededEvent>(&ev[0]);
  ASSERT_NE(b, nullptr) << dump(ev);
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kWallClock);
}

// The host API's kick: a slice with no limit ends at the engine's next block boundary.
TEST(Uncounted, RequestStopEndsASliceWithNoLimit) {
  const TdImage im = make_boot_image(loop_forever64());
  sim::Session s(im);
  const std::atomic<bool> never{false};
  sim::Vcpu& v = s.vcpu(0);
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    while (!done.load()) {
      v.request_stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const sim::Vcpu::SliceEnd end = v.run_slice(UINT64_MAX, [](const Event&) {}, never);
  done.store(true);
  stopper.join();
  EXPECT_EQ(end, sim::Vcpu::SliceEnd::kExhausted);
  EXPECT_FALSE(v.stopped());
}

}  // namespace
}  // namespace tdsim::simtest
