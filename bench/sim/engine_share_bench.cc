// One Unicorn engine per vCPU against one engine for all vCPUs with the CPU state switched
// per turn (issue 12, item 3), measured on the bare engine (no tdsim Vcpu), in one process.
// Every vCPU runs the same loop from one shared code page, each on its own stack page:
//   1: add rax, 1; add rbx, rax; mov [rsp-8], rbx; xor rdx, rbx; dec rcx; jnz 1b; hlt
// in round-robin turns of at most kTurn instructions, counted by a UC_HOOK_BLOCK callback
// (the loop body is one 6-instruction block, the HLT one of 1) that calls uc_emu_stop at the
// first block that would take the turn past kTurn, so turns are whole blocks.
//  - per vCPU: N engines (sim::open_engine), the same host RAM mapped into each;
//  - shared: one engine, N contexts; each turn is uc_context_restore, the run,
//    uc_context_save; "shared+flush" also flushes the TLB at every switch, as an engine
//    shared by vCPUs with their own page tables would have to.
// Each variant is timed whole, from the first uc_open to the last uc_close. Every vCPU's
// final registers, its stack word and its counted instructions are checked after each run.
// Output lines name the vCPU count in words so that bench/run.sh's medians (which mask
// digits) keep them apart.
#include <fmt/format.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "bench/median.h"
#include "sim/engine.h"
#include "sim/uc_error.h"

namespace {

using tdsim::bench::median;

namespace sim = tdsim::sim;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kCode = 0x100000;        // the shared code page
constexpr uint64_t kStacks = kCode + kPage;  // vCPU i's stack page: kStacks + i * kPage
constexpr int kMaxVcpus = 64;
constexpr uint64_t kRamBytes = kPage * (1 + kMaxVcpus);
constexpr uint64_t kIters = 10'000;                      // loop iterations per vCPU
constexpr uint64_t kBodyInsns = 6;                       // instructions in the loop block
constexpr uint64_t kInsnsPerVcpu = kIters * kBodyInsns + 1;  // + the HLT
constexpr uint64_t kTurn = 20'000;                       // tdsim's default slice
constexpr int kReps = 5;

const uint8_t kLoop[] = {
    0x48, 0x83, 0xc0, 0x01,        // add rax, 1
    0x48, 0x01, 0xc3,              // add rbx, rax
    0x48, 0x89, 0x5c, 0x24, 0xf8,  // mov [rsp-8], rbx
    0x48, 0x31, 0xda,              // xor rdx, rbx
    0x48, 0xff, 0xc9,              // dec rcx
    0x75, 0xec,                    // jnz back to the add (-20)
    0xf4,                          // hlt
};
constexpr uint32_t kBodyBytes = sizeof(kLoop) - 1;
constexpr uint64_t kHalted = kCode + sizeof(kLoop);  // RIP after the HLT

uint8_t* ram() {
  static auto* r = static_cast<uint8_t*>(std::aligned_alloc(kPage, kRamBytes));
  return r;
}

struct Turn {
  uint64_t insns = 0;
  uint64_t limit = 0;
  uc_err err = UC_ERR_OK;  // a failed uc_emu_stop or an unknown block, checked after the run
};

// uc_emu_stop from a block callback stops the engine before that block runs (Unicorn
// 2.1.1), so a block that would take the turn past its limit ends the turn uncounted.
void block_cb(uc_engine* uc, uint64_t, uint32_t size, void* user) {
  auto* t = static_cast<Turn*>(user);
  const uint64_t insns = size == kBodyBytes ? kBodyInsns : 1;
  if (size != kBodyBytes && size != 1) t->err = UC_ERR_EXCEPTION;
  if (t->err == UC_ERR_OK && t->insns > 0 && t->insns + insns > t->limit) t->err = uc_emu_stop(uc);
  else t->insns += insns;
}

uint64_t seed(int i) { return 1000u * static_cast<uint64_t>(i) + 7; }

void map_and_hook(uc_engine* uc, Turn* turn) {
  sim::uc_check(uc_mem_map_ptr(uc, kCode, kRamBytes, UC_PROT_ALL, ram()), "uc_mem_map_ptr");
  uc_hook h;
  sim::uc_check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(block_cb), turn, 1, 0), "uc_hook_add(UC_HOOK_BLOCK)");
}

void set_start_regs(uc_engine* uc, int i) {
  uint64_t v[] = {0, seed(i), kIters, 0, kStacks + (i + 1) * kPage, kCode};
  int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,
               UC_X86_REG_RDX, UC_X86_REG_RSP, UC_X86_REG_RIP};
  void* vals[] = {&v[0], &v[1], &v[2], &v[3], &v[4], &v[5]};
  sim::uc_check(uc_reg_write_batch(uc, ids, vals, 6), "uc_reg_write_batch");
}

// rax, rbx, rcx, rip as read back from vCPU i; throws unless the loop ran to its HLT.
void check_final(int i, const uint64_t (&r)[4], uint64_t counted) {
  const uint64_t rbx = seed(i) + kIters * (kIters + 1) / 2;
  uint64_t word = 0;
  std::memcpy(&word, ram() + kPage * (i + 2) - 8, 8);
  if (r[0] != kIters || r[1] != rbx || r[2] != 0 || r[3] != kHalted || word != rbx || counted != kInsnsPerVcpu)
    throw std::runtime_error(fmt::format("vCPU {}: rax {} rbx {} rcx {} rip {:#x} stack {} counted {}", i, r[0],
                                         r[1], r[2], r[3], word, counted, kInsnsPerVcpu));
}

enum class Variant { kPerVcpu, kShared, kSharedFlush };

// Engines and contexts, freed on the error path; close() frees them checked, for timing.
struct Engines {
  std::vector<uc_engine*> uc;
  std::vector<uc_context*> ctx;
  Engines() = default;
  Engines(const Engines&) = delete;
  Engines& operator=(const Engines&) = delete;
  ~Engines() {  // only after an error: nothing more to report, the first error is thrown
    for (uc_context* c : ctx) (void)uc_context_free(c);
    for (uc_engine* u : uc) (void)uc_close(u);
  }
  void close() {
    while (!ctx.empty()) { sim::uc_check(uc_context_free(ctx.back()), "uc_context_free"); ctx.pop_back(); }
    while (!uc.empty()) { sim::uc_check(uc_close(uc.back()), "uc_close"); uc.pop_back(); }
  }
};

struct Timing {
  double total, setup, run, close;  // seconds
  uint64_t turns;
};

Timing run_variant(Variant v, int n, uint64_t turn_insns) {
  std::memset(ram() + kPage, 0, kRamBytes - kPage);
  Turn turn;
  std::vector<uint64_t> rip(n, kCode), counted(n, 0);
  Engines e;
  const auto t0 = Clock::now();
  if (v == Variant::kPerVcpu) {
    for (int i = 0; i < n; ++i) {
      e.uc.push_back(sim::open_engine(UC_MODE_64));
      map_and_hook(e.uc.back(), &turn);
      set_start_regs(e.uc.back(), i);
    }
  } else {
    e.uc.push_back(sim::open_engine(UC_MODE_64));
    map_and_hook(e.uc[0], &turn);
    for (int i = 0; i < n; ++i) {
      e.ctx.push_back(nullptr);
      sim::uc_check(uc_context_alloc(e.uc[0], &e.ctx.back()), "uc_context_alloc");
      set_start_regs(e.uc[0], i);
      sim::uc_check(uc_context_save(e.uc[0], e.ctx.back()), "uc_context_save");
    }
  }
  const auto t1 = Clock::now();
  uint64_t turns = 0;
  for (int left = n; left > 0;) {
    for (int i = 0; i < n; ++i) {
      if (rip[i] == kHalted) continue;
      uc_engine* uc = v == Variant::kPerVcpu ? e.uc[i] : e.uc[0];
      if (v != Variant::kPerVcpu) sim::uc_check(uc_context_restore(uc, e.ctx[i]), "uc_context_restore");
      if (v == Variant::kSharedFlush) sim::uc_check(uc_ctl_flush_tlb(uc), "uc_ctl_flush_tlb");
      turn = Turn{0, turn_insns};
      sim::uc_check(uc_emu_start(uc, rip[i], 0, 0, 0), "uc_emu_start");
      sim::uc_check(turn.err, "block hook (uc_emu_stop or an unexpected block)");
      sim::uc_check(uc_reg_read(uc, UC_X86_REG_RIP, &rip[i]), "uc_reg_read(RIP)");
      if (v != Variant::kPerVcpu) sim::uc_check(uc_context_save(uc, e.ctx[i]), "uc_context_save");
      counted[i] += turn.insns;
      ++turns;
      if (rip[i] == kHalted) --left;
    }
  }
  const auto t2 = Clock::now();
  for (int i = 0; i < n; ++i) {
    uint64_t r[4];
    const int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RIP};
    for (int k = 0; k < 4; ++k)
      sim::uc_check(v == Variant::kPerVcpu ? uc_reg_read(e.uc[i], ids[k], &r[k]) : uc_context_reg_read(e.ctx[i], ids[k], &r[k]),
            "uc_reg_read/uc_context_reg_read");
    check_final(i, r, counted[i]);
  }
  const auto t3 = Clock::now();
  e.close();
  const auto t4 = Clock::now();
  auto s = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  return Timing{s(t2 - t0) + s(t4 - t3), s(t1 - t0), s(t2 - t1), s(t4 - t3), turns};
}

// The switch alone: restore + save (+ TLB flush) between two contexts, per switch.
double switch_seconds(bool flush) {
  Engines e;
  Turn turn{0, kTurn};
  e.uc.push_back(sim::open_engine(UC_MODE_64));
  map_and_hook(e.uc[0], &turn);
  for (int i = 0; i < 2; ++i) {
    e.ctx.push_back(nullptr);
    sim::uc_check(uc_context_alloc(e.uc[0], &e.ctx.back()), "uc_context_alloc");
    set_start_regs(e.uc[0], i);
    sim::uc_check(uc_context_save(e.uc[0], e.ctx.back()), "uc_context_save");
  }
  sim::uc_check(uc_emu_start(e.uc[0], kCode, 0, 0, 0), "uc_emu_start");  // a used engine, TLB filled
  constexpr int kSwitches = 100'000;
  const auto t0 = Clock::now();
  for (int k = 0; k < kSwitches; ++k) {
    sim::uc_check(uc_context_restore(e.uc[0], e.ctx[k & 1]), "uc_context_restore");
    if (flush) sim::uc_check(uc_ctl_flush_tlb(e.uc[0]), "uc_ctl_flush_tlb");
    sim::uc_check(uc_context_save(e.uc[0], e.ctx[k & 1]), "uc_context_save");
  }
  const double t = std::chrono::duration<double>(Clock::now() - t0).count() / kSwitches;
  e.close();
  return t;
}

const char* words(int n) {
  switch (n) {
    case 1: return "one vCPU";
    case 4: return "four vCPUs";
    case 16: return "sixteen vCPUs";
    default: return "sixty-four vCPUs";
  }
}

const char* const kNames[] = {"one engine per vCPU", "one engine, switched", "one engine, switched+TLB flush"};

}  // namespace

int main() {
  try {
    // As `tdsim run` does (cli/main.cc): engines' code buffers on 4 KiB pages.
    const bool thp_off = sim::keep_code_buffers_off_huge_pages();
    std::memcpy(ram(), kLoop, sizeof(kLoop));
    {
      Engines e;
      e.uc.push_back(sim::open_engine(UC_MODE_64));
      fmt::print("context {} bytes, {} instructions per vCPU, turns of {}, transparent huge pages {}\n",
                 uc_context_size(e.uc[0]), kInsnsPerVcpu, kTurn, thp_off ? "off" : "on");
      e.close();
    }
    const int ns[] = {1, 4, 16, 64};
    std::vector<double> total[3][4], setup[3][4], run[3][4], close[3][4];
    for (int r = 0; r < kReps; ++r)
      for (int j = 0; j < 4; ++j)
        for (int v = 0; v < 3; ++v) {
          const Timing t = run_variant(static_cast<Variant>(v), ns[j], kTurn);
          total[v][j].push_back(t.total * 1e3);
          setup[v][j].push_back(t.setup * 1e3);
          run[v][j].push_back(t.run * 1e3);
          close[v][j].push_back(t.close * 1e3);
        }
    for (int j = 0; j < 4; ++j)
      for (int v = 0; v < 3; ++v) {
        const auto [lo, hi] = std::minmax_element(total[v][j].begin(), total[v][j].end());
        fmt::print("{:>16}, {:<31} {:8.3f} ms ({:.3f}-{:.3f}): set-up {:.3f}, run {:.3f}, close {:.3f}\n",
                   words(ns[j]), kNames[v], median(total[v][j]), *lo, *hi, median(setup[v][j]), median(run[v][j]),
                   median(close[v][j]));
      }
    for (int j = 2; j < 4; ++j)
      for (int v = 0; v < 3; ++v)
        fmt::print("per vCPU past the first, {:>16}, {:<31} {:7.1f} us\n", words(ns[j]), kNames[v],
                   (median(total[v][j]) - median(total[v][0])) / (ns[j] - 1) * 1e3);

    // The switch: alone, and in place (sixteen vCPUs, turns of 120 instructions, 20 loop
    // blocks, against 20,000: about 8,000 turns against 48, so that the switches' time
    // stands out of a loaded machine's noise).
    std::vector<double> sw[2];
    for (int r = 0; r < kReps; ++r)
      for (int f = 0; f < 2; ++f) sw[f].push_back(switch_seconds(f == 1) * 1e9);
    fmt::print("switch alone: restore+save {:.0f} ns, restore+TLB flush+save {:.0f} ns\n", median(sw[0]),
               median(sw[1]));
    constexpr uint64_t kShortTurn = 120;
    std::vector<double> extra[3];
    uint64_t turns_short = 0, turns_long = 0;
    for (int r = 0; r < kReps; ++r)
      for (int v = 0; v < 3; ++v) {
        const Timing s = run_variant(static_cast<Variant>(v), 16, kShortTurn);
        const Timing l = run_variant(static_cast<Variant>(v), 16, kTurn);
        turns_short = s.turns;
        turns_long = l.turns;
        extra[v].push_back((s.run - l.run) / static_cast<double>(s.turns - l.turns) * 1e9);
      }
    fmt::print("sixteen vCPUs, turns of {} ({} turns) against {} ({} turns), per extra turn:\n", kShortTurn,
               turns_short, kTurn, turns_long);
    for (int v = 0; v < 3; ++v) fmt::print("  {:<31} {:6.0f} ns\n", kNames[v], median(extra[v]));
    fmt::print("  switch in place (shared - per vCPU) {:6.0f} ns, with TLB flush {:6.0f} ns\n",
               median(extra[1]) - median(extra[0]), median(extra[2]) - median(extra[0]));
  } catch (const std::exception& e) {
    fmt::print(stderr, "tdsim_engine_share_bench: {}\n", e.what());
    return 70;
  }
  return 0;
}
