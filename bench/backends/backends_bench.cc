// create + boot + DONE of the hello image, per backend, in one run: Unicorn with a
// fresh engine per run (what `tdsim run` pays), Unicorn reusing a Session (what a
// test loop pays), and plain KVM (fresh VM per run). Prints runs/s and ratios to the
// fresh-Unicorn baseline measured here. Figures, not pass/fail.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim/session.h"
#include "sim/unicorn_backend.h"

using namespace tdsim;
using Clock = std::chrono::steady_clock;

namespace {

// Median over rounds of the per-run time of `n` runs, in microseconds.
double per_run_us(int n, const std::function<bool()>& run_once) {
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i)
      if (!run_once()) {
        fmt::print("run did not end in DONE: figures invalid\n");
        return -1;
      }
    rounds.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[rounds.size() / 2];
}

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool done(const std::vector<Event>& ev, uint32_t n) { return classify(ev, n) == Outcome::kDone; }

}  // namespace

int main() {
  LayoutSpec spec;
  spec.guest_elf = read_file(TDSIM_GUEST_HELLO_ELF);
  const TdImage image = build_image(spec);
  RunLimits limits;

  UnicornBackend unicorn;
  const double fresh = per_run_us(50, [&] { return done(run_collect(unicorn, image, limits), 1); });

  sim::Session session(image);
  const double reused = per_run_us(500, [&] {
    std::vector<Event> ev;
    session.run(limits, [&](const Event& e) { ev.push_back(e); });
    return done(ev, 1);
  });

  fmt::print("create+boot+DONE, hello image (median of 5 rounds)\n");
  fmt::print("  unicorn, fresh engine:   {:9.1f} us/run {:9.0f} runs/s  1.00x (baseline)\n", fresh, 1e6 / fresh);
  fmt::print("  unicorn, reused session: {:9.1f} us/run {:9.0f} runs/s  {:.2f}x baseline time\n", reused,
             1e6 / reused, reused / fresh);

  auto probe = kvm::probe_host();
  if (!probe.kvm_usable) {
    fmt::print("  kvm: skipped: {}\n", probe.backend("kvm")->reason);
    return 0;
  }
  KvmBackend kvm;
  const double k = per_run_us(50, [&] { return done(run_collect(kvm, image, limits), 1); });
  fmt::print("  kvm, fresh VM:           {:9.1f} us/run {:9.0f} runs/s  {:.2f}x baseline time\n", k, 1e6 / k,
             k / fresh);
  return 0;
}
