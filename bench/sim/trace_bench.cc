// Cost of tracing on the Unicorn backend. With tracing off the only per-instruction
// work is the budget hook that was already there (plus one untaken branch), so the
// guest instruction rate must not change; the stub-page hook (CR checks) runs only while
// the stub runs. Prints instruction rates (tight loop to the budget) with tracing off,
// with a TraceOptions set but every kind off, and with the instruction trace on, as
// ratios; and boots/s of the real image (stub hook included). Medians of 5.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "bench/median.h"
#include "bootstub/host/image_builder.h"
#include "sim/session.h"
#include "sim/trace.h"
#include "tests/guests/test_assets.h"
#include "tests/sim/hand_image.h"

namespace {

using tdsim::bench::median;

using namespace tdsim;
using Clock = std::chrono::steady_clock;

// Guest instructions per second of an endless loop run to an instruction budget.
double insn_rate(const sim::TraceOptions* t, uint64_t insns) {
  const TdImage im = simtest::make_boot_image(simtest::loop_forever64());
  sim::Session s(im);
  s.set_trace(t);
  const RunLimits l{insns, std::chrono::milliseconds(120'000)};
  s.run(l, [](const Event&) {});  // warm the translation cache
  std::vector<double> r;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    s.run(l, [](const Event&) {});
    r.push_back(static_cast<double>(insns) / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(r);
}

double boots_per_second(const TdImage& im, const sim::TraceOptions* t, int boots) {
  sim::Session s(im);
  s.set_trace(t);
  const RunLimits l{50'000'000, std::chrono::milliseconds(60'000)};
  s.run(l, [](const Event&) {});
  std::vector<double> r;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (int i = 0; i < boots; ++i) s.run(l, [](const Event&) {});
    r.push_back(boots / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(r);
}

}  // namespace

int main() {
  size_t lines = 0;
  sim::TraceOptions all_off;
  all_off.sink = [&](const std::string&) { ++lines; };
  sim::TraceOptions insn = all_off;
  insn.insn = true;

  const double off = insn_rate(nullptr, 50'000'000);
  const double set_off = insn_rate(&all_off, 50'000'000);
  const double on = insn_rate(&insn, 500'000);
  fmt::print("guest loop, tracing off:               {:8.1f} M insn/s\n", off / 1e6);
  fmt::print("guest loop, TraceOptions set, all off: {:8.1f} M insn/s = {:.3f}x tracing off\n", set_off / 1e6,
             set_off / off);
  fmt::print("guest loop, --trace insn (null sink):  {:8.2f} M insn/s = {:.3f}x tracing off\n", on / 1e6, on / off);

  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
  const TdImage real = build_image(spec);
  sim::TraceOptions boot = all_off;
  boot.boot = true;
  const double b_off = boots_per_second(real, nullptr, 1000);
  const double b_on = boots_per_second(real, &boot, 1000);
  fmt::print("boot+hello guest, tracing off:         {:8.0f} boots/s\n", b_off);
  fmt::print("boot+hello guest, --trace boot:        {:8.0f} boots/s = {:.3f}x tracing off\n", b_on, b_on / b_off);
  return lines == 0 ? 1 : 0;
}
