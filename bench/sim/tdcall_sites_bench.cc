// Cost per guest instruction after N distinct TDCALL sites have run (issue 13, class 6):
// with one code hook per TDCALL site (Unicorn 2.0.1 era) every instruction paid for
// every site; with the TDCALL trapped through the invalid-instruction hook the cost must
// not depend on N. The same image is also run on a bare Unicorn engine with no tdsim
// hook at all (the TDCALLs are replaced by NOPs there), as the baseline of this process.
// Medians of 5 runs; figures go to docs/reliability.md.
#include <fmt/format.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "bench/median.h"
#include "sim/session.h"
#include "tests/sim/hand_image.h"

namespace {

using tdsim::bench::median;

using namespace tdsim;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kLoopIterations = 10'000'000;  // dec + jnz: 2 instructions each

// N sites of TDG.VP.VMCALL KVM hypercall 1 (KVM_HC_VAPIC_POLL_IRQ: answered, no event),
// then the loop, then HLT.
std::vector<uint8_t> code_with_sites(unsigned n, bool nop_sites) {
  std::vector<uint8_t> c;
  for (unsigned i = 0; i < n; ++i) {
    const uint8_t site[] = {0x31, 0xc0,                          // xor eax, eax
                            0xb9, 0x00, 0xfc, 0x00, 0x00,        // mov ecx, 0xfc00
                            0x41, 0xba, 0x01, 0x00, 0x00, 0x00,  // mov r10d, 1
                            0x66, 0x0f, 0x01, 0xcc};             // tdcall
    c.insert(c.end(), site, site + sizeof site);
    if (nop_sites) std::fill(c.end() - 4, c.end(), 0x90);
  }
  const uint8_t loop[] = {0xb9, 0, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xf4};  // mov ecx, N; 1: dec; jnz 1b; hlt
  c.insert(c.end(), loop, loop + sizeof loop);
  std::memcpy(&c[c.size() - sizeof loop + 1], &kLoopIterations, 4);
  return c;
}

double tdsim_seconds(const std::vector<uint8_t>& code) {
  const TdImage im = simtest::make_boot_image(simtest::Blob{code.data(), code.data() + code.size()});
  sim::Session s(im);
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    size_t events = 0;
    const auto t0 = Clock::now();
    s.run(RunLimits{4'000'000'000, std::chrono::milliseconds(60'000)}, [&](const Event&) { ++events; });
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (events != 1) fmt::print("warning: {} events (expected the HLT only)\n", events);
  }
  return median(t);
}

// The loop alone on a bare 64-bit engine: flat identity paging is not needed for this
// code, so the engine runs it with paging off from the loop's first byte.
double bare_seconds(const std::vector<uint8_t>& code) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    uc_engine* uc = nullptr;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) return -1;
    std::vector<uint8_t> mem(0x40000, 0);
    std::memcpy(mem.data(), code.data(), code.size());
    if (uc_mem_map_ptr(uc, 0x100000, mem.size(), UC_PROT_ALL, mem.data()) != UC_ERR_OK) return -1;
    const auto t0 = Clock::now();
    const uc_err e = uc_emu_start(uc, 0x100000, 0x100000 + code.size() - 1, 0, 0);
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    uc_close(uc);
    if (e != UC_ERR_OK) return -1;
  }
  return median(t);
}

}  // namespace

int main() {
  const double insns = 2.0 * kLoopIterations;
  const double bare = bare_seconds(code_with_sites(1000, true));
  fmt::print("bare Unicorn engine, no hooks, the loop:      {:7.2f} ns/insn\n", 1e9 * bare / insns);
  double one = 0;
  for (unsigned n : {1u, 50u, 200u, 1000u}) {
    const double s = tdsim_seconds(code_with_sites(n, false));
    if (n == 1) one = s;
    fmt::print("tdsim, {:4} TDCALL sites run before the loop: {:7.2f} ns/insn  = {:.2f}x one site, {:.2f}x bare\n", n,
               1e9 * s / insns, s / one, s / bare);
  }
  return 0;
}
