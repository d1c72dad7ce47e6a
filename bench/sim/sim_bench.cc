// Unicorn backend costs: raw TDCALL trap, ucall round trip (full decode), and boot+DONE
// per second with Session reset. Each figure is printed next to the raw trap cost of the
// same run, as a ratio. Targets (reported, not asserted): >= 5,000 boots/s, ucall <= 3x
// raw trap. Medians of several repetitions.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "bench/median.h"
#include "sim/session.h"
#include "tests/sim/hand_image.h"

#ifdef TDSIM_BENCH_REAL_IMAGE
#include "bootstub/host/image_builder.h"
#include "tests/guests/test_assets.h"
#endif

namespace {

using tdsim::bench::median;

using namespace tdsim;
using Clock = std::chrono::steady_clock;

const RunLimits kLimits{2'000'000'000, std::chrono::milliseconds(60'000)};

// Seconds per run of `s` (median of `reps`), checking the run ended with `events` events.
double time_runs(sim::Session& s, int reps, size_t events) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    size_t n = 0;
    const auto t0 = Clock::now();
    s.run(kLimits, [&](const Event&) { ++n; });
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (n != events) fmt::print("warning: expected {} events, got {}\n", events, n);
  }
  return median(t);
}

// Per-call cost of a guest loop of N calls: (run(N) - run(0-ish)) / N.
double per_call(const simtest::Blob& code, uint64_t n, size_t events_per_call, bool ucall) {
  auto make = [&](uint64_t count) {
    TdImage im = simtest::make_boot_image(code);
    simtest::set_bench_count(im, count);
    simtest::set_slot(im, 0, ucall ? tdsim::abi::kUcallPrintf : tdsim::abi::kUcallDone, ucall ? "tick" : "");
    if (ucall) simtest::set_slot(im, 1, tdsim::abi::kUcallDone);
    return im;
  };
  const TdImage big = make(n), small = make(1);
  sim::Session sb(big), ss(small);
  const size_t tail = 1;  // the final DONE (or slot-0 ucall)
  const double tb = time_runs(sb, 5, n * events_per_call + tail);
  const double ts = time_runs(ss, 5, events_per_call + tail);
  return (tb - ts) / static_cast<double>(n - 1);
}

double boots_per_second(const TdImage& im, int boots) {
  sim::Session s(im);
  s.run(kLimits, [](const Event&) {});  // warm: translations are kept across resets
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (int i = 0; i < boots; ++i) s.run(kLimits, [](const Event&) {});
    rates.push_back(boots / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return median(rates);
}

}  // namespace

int main() {
  constexpr uint64_t kCalls = 200'000;
  const double trap = per_call(simtest::tdcall_bench64(), kCalls, 0, false);
  const double ucall = per_call(simtest::ucall_bench64(), kCalls, 1, true);
  fmt::print("raw TDCALL trap (KVM_HC_VAPIC_POLL_IRQ, no event): {:8.3f} us/call\n", trap * 1e6);
  fmt::print("ucall round trip (PRINTF, full decode):           {:8.3f} us/call  = {:.2f}x raw trap "
             "(target <= 3x)\n",
             ucall * 1e6, ucall / trap);

  TdImage hello = simtest::make_boot_image(simtest::hello64());
  simtest::set_slot(hello, 0, tdsim::abi::kUcallPrintf, "hello");
  simtest::set_slot(hello, 1, tdsim::abi::kUcallDone);
  const double bps = boots_per_second(hello, 2000);
  fmt::print("boot+PRINTF+DONE, hand stub (Session reset+run): {:8.0f} boots/s  = {:.1f} us/boot "
             "= {:.0f}x raw trap (target >= 5000/s)\n",
             bps, 1e6 / bps, (1.0 / bps) / trap);
#ifdef TDSIM_BENCH_REAL_IMAGE
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
  spec.guest_elf_name = "hello";
  const TdImage real = build_image(spec);
  const double rbps = boots_per_second(real, 1000);
  fmt::print("boot+hello guest, built-in stub + layout:        {:8.0f} boots/s  = {:.1f} us/boot "
             "= {:.0f}x raw trap (target >= 5000/s)\n",
             rbps, 1e6 / rbps, (1.0 / rbps) / trap);
#endif
  const auto t0 = Clock::now();
  for (int i = 0; i < 50; ++i) sim::Session s(hello);
  const double setup = std::chrono::duration<double>(Clock::now() - t0).count() / 50;
  fmt::print("Session construction (uc_open, map, reset state): {:8.1f} us     = {:.0f}x raw trap\n",
             setup * 1e6, setup / trap);
  return 0;
}
