// tdsim against the bare Unicorn engine, side by side in one process (issue 12, item 5).
// Each figure is a median of several repetitions, and each tdsim figure is printed with
// the same run's bare-engine figure and their ratio:
//  - boot: the same image booted to its DONE ucall, again and again. The bare engine has
//    only what the guest cannot boot without — the platform's answers to TDCALL and CPUID
//    leaf 0x21 (the same tdx::TdxModule tdsim uses) — and none of tdsim's mechanism: no
//    instruction count, no stub monitor, no exception delivery, no watchdog. It restores
//    memory by copying back only the pages a boot writes (found once, by comparison after
//    the first boot) and its CPU state from one saved context: the cheapest reset there is.
//  - TDCALL trap: a guest loop of TDCALLs; the bare engine's invalid-instruction hook reads
//    the 14 ABI registers, writes a success answer back and steps over the instruction.
//    tdsim's full ucall round trip is printed against it too (target <= 3x).
//  - guest compute: a 2-instruction DEC+JNZ loop and a 12-instruction ALU loop on a bare
//    engine with no hook at all, against tdsim running the same code after the boot stub.
//    The ceiling of counting per block is printed with them: the bare engine with an empty
//    UC_HOOK_BLOCK callback, and with one that only adds a constant to a counter. Unicorn
//    2.1.1 has no cheaper way to count (no per-block counter in the translated code; its
//    uc_emu_start `count` is a per-instruction hook), so no tdsim run with an instruction
//    budget can beat these rows.
// The KVM side (bare KVM_EXIT_MMIO against the ucall round trip) is tdsim_kvm_bench.
#include <fmt/format.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/median.h"
#include "bootstub/host/image_builder.h"
#include "core/guest_memory.h"
#include "core/shared_bit_fold.h"
#include "sim/engine.h"
#include "sim/uc_error.h"
#include "sim/reset_state.h"
#include "sim/session.h"
#include "tdx/tdx_module.h"
#include "tests/guests/test_assets.h"
#include "tests/hlt_shutdown.h"
#include "tests/sim/hand_image.h"

namespace {

using tdsim::bench::median;

using namespace tdsim;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kPage = 4096;
const RunLimits kLimits{4'000'000'000, std::chrono::milliseconds(60'000)};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr int kTdcallRegIds[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                 UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,
                                 UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13,
                                 UC_X86_REG_R14, UC_X86_REG_R15};
constexpr int kNregs = static_cast<int>(std::size(kTdcallRegIds));

// A bare engine over an image's memory: mapped, in the TD reset state, with at most the
// two hooks a TD guest needs to boot. `answer` handles a TDCALL at `rip`; it returns false
// when the engine is to stop there.
class BareEngine {
 public:
  using Answer = std::function<bool(uc_engine*, uint64_t rip)>;

  BareEngine(const TdImage& image, GuestMemory& mem, Answer answer, const tdx::TdxModule* cpuid)
      : answer_(std::move(answer)), cpuid_(cpuid) {
    uc_ = sim::open_engine(UC_MODE_64);
    for (const GuestMemory::Block& b : mem.blocks())
      sim::uc_check(uc_mem_map_ptr(uc_, b.gpa, b.size, UC_PROT_ALL, b.host), "uc_mem_map_ptr");
    uc_hook h;
    sim::uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN_INVALID, reinterpret_cast<void*>(&BareEngine::on_invalid), this, 1, 0),
          "uc_hook_add(INSN_INVALID)");
    // Unicorn 2.1 reports the #UD of a TDCALL the invalid-instruction hook handled to the
    // interrupt hooks as well; without one, uc_emu_start fails with UC_ERR_EXCEPTION.
    sim::uc_check(uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&BareEngine::on_intr), this, 1, 0),
          "uc_hook_add(INTR)");
    if (cpuid_)
      sim::uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&BareEngine::on_cpuid), this, 1, 0,
                        UC_X86_INS_CPUID),
            "uc_hook_add(CPUID)");
    sim::load_td_reset_state(uc_, image, 0);
    sim::uc_check(uc_context_alloc(uc_, &initial_), "uc_context_alloc");
    sim::uc_check(uc_context_save(uc_, initial_), "uc_context_save");
  }
  ~BareEngine() {
    uc_context_free(initial_);
    uc_close(uc_);
  }
  BareEngine(const BareEngine&) = delete;
  BareEngine& operator=(const BareEngine&) = delete;

  void reset_cpu() {
    sim::uc_check(uc_context_restore(uc_, initial_), "uc_context_restore");
    uint64_t cr3 = 0;
    sim::uc_check(uc_reg_write(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_write(CR3)");  // drops the TLB
  }

  // Runs from the current RIP until `answer` says stop.
  void run() {
    stop_ = false;
    fault_ = -1;
    for (int spins = 0; !stop_; ++spins) {
      uint64_t rip = 0;
      uc_reg_read(uc_, UC_X86_REG_RIP, &rip);
      const uc_err e = uc_emu_start(uc_, rip, ~0ull, 0, 0);
      if (e != UC_ERR_OK) {
        uc_reg_read(uc_, UC_X86_REG_RIP, &rip);
        throw std::runtime_error(fmt::format("bare engine: uc_emu_start: {} at rip {:#x}", uc_strerror(e), rip));
      }
      if (fault_ >= 0) throw std::runtime_error(fmt::format("bare engine: exception {} at {:#x}", fault_, rip));
      if (stop_) break;
      // Unicorn ends uc_emu_start at a TDCALL in a cached block without calling the hook
      // (docs/engine-quirks.md): answer it from here, as tdsim does.
      uc_reg_read(uc_, UC_X86_REG_RIP, &rip);
      if (!at_tdcall(rip)) throw std::runtime_error(fmt::format("bare engine stopped at {:#x}", rip));
      trap(rip);
      if (spins > 100'000'000) throw std::runtime_error("bare engine did not stop");
    }
  }

 private:
  bool at_tdcall(uint64_t rip) {
    uint8_t b[4] = {};
    return uc_mem_read(uc_, rip, b, 4) == UC_ERR_OK && std::memcmp(b, tdsim::abi::kTdcallBytes, 4) == 0;
  }
  void trap(uint64_t rip) {
    if (!answer_(uc_, rip)) {
      stop_ = true;
      uc_emu_stop(uc_);
      return;
    }
    const uint64_t next = rip + 4;
    uc_reg_write(uc_, UC_X86_REG_RIP, &next);
  }
  static bool on_invalid(uc_engine* uc, void* self) {
    auto* b = static_cast<BareEngine*>(self);
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    if (!b->at_tdcall(rip)) return false;
    b->trap(rip);
    b->ud_consumed_ = true;
    return true;
  }
  static void on_intr(uc_engine* uc, uint32_t intno, void* self) {
    auto* b = static_cast<BareEngine*>(self);
    if (intno == 6 && b->ud_consumed_) {
      b->ud_consumed_ = false;
      return;
    }
    b->fault_ = static_cast<int>(intno);  // the guest would need tdsim's exception delivery
    uc_emu_stop(uc);
  }
  static int on_cpuid(uc_engine* uc, void* self) {
    auto* b = static_cast<BareEngine*>(self);
    uint64_t leaf = 0, sub = 0;
    uc_reg_read(uc, UC_X86_REG_RAX, &leaf);
    uc_reg_read(uc, UC_X86_REG_RCX, &sub);
    const auto c = b->cpuid_->instruction_cpuid(static_cast<uint32_t>(leaf), static_cast<uint32_t>(sub), {});
    if (!c.value) return 0;  // the bench's guests never run a #VE leaf
    const auto* v = &*c.value;
    uint64_t out[] = {v->eax, v->ebx, v->ecx, v->edx};
    int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX};
    void* vals[] = {&out[0], &out[1], &out[2], &out[3]};
    uc_reg_write_batch(uc, ids, vals, 4);
    return 1;
  }

  Answer answer_;
  const tdx::TdxModule* cpuid_;
  uc_engine* uc_ = nullptr;
  uc_context* initial_ = nullptr;
  bool stop_ = false;
  bool ud_consumed_ = false;
  int fault_ = -1;
};

// Reads the TDCALL registers, asks the module, writes them back; false at a stop.
bool module_answer(tdx::TdxModule& module, uc_engine* uc, uint64_t rip, bool& done) {
  ucall::TdcallRegs in;
  uint64_t* f[] = {&in.rax, &in.rcx, &in.rdx, &in.rbx, &in.rsi, &in.rdi, &in.r8,
                   &in.r9,  &in.r10, &in.r11, &in.r12, &in.r13, &in.r14, &in.r15};
  uc_reg_read_batch(uc, const_cast<int*>(kTdcallRegIds), reinterpret_cast<void**>(f), kNregs);
  const tdx::TdcallResult r = module.tdcall(0, rip, in);
  if (r.stop) {
    const auto* u = r.event ? std::get_if<UcallEvent>(&*r.event) : nullptr;
    done = u && u->cmd == tdsim::abi::kUcallDone;
    return false;
  }
  ucall::TdcallRegs o = r.regs;
  uint64_t* g[] = {&o.rax, &o.rcx, &o.rdx, &o.rbx, &o.rsi, &o.rdi, &o.r8,
                   &o.r9,  &o.r10, &o.r11, &o.r12, &o.r13, &o.r14, &o.r15};
  uc_reg_write_batch(uc, const_cast<int*>(kTdcallRegIds), reinterpret_cast<void**>(g), kNregs);
  return true;
}

struct BootFigures {
  double bare, tdsim;  // boots per second
};

BootFigures boots_per_second(const TdImage& image, int boots, const RunLimits& limits) {
  // Bare: the module's TD build and the shared-bit fold done once, into the snapshot.
  GuestMemory mem(image);
  tdx::TdxModule module(image, mem);
  module.build_td();
  fold_shared_bit_in_page_tables(image, mem);
  std::vector<std::vector<uint8_t>> snapshot;
  for (const auto& b : mem.blocks()) snapshot.emplace_back(b.host, b.host + b.size);
  bool done = false;
  BareEngine bare(image, mem, [&](uc_engine* uc, uint64_t rip) { return module_answer(module, uc, rip, done); },
                  &module);
  bare.reset_cpu();
  bare.run();  // warm, and learn which pages a boot writes
  if (!done) throw std::runtime_error("bare engine: the image did not end with DONE");
  struct Dirty {
    uint8_t* host;
    const uint8_t* orig;
  };
  std::vector<Dirty> dirty;
  for (size_t i = 0; i < mem.blocks().size(); ++i) {
    const auto& b = mem.blocks()[i];
    for (uint64_t off = 0; off < b.size; off += kPage)
      if (std::memcmp(b.host + off, snapshot[i].data() + off, kPage) != 0)
        dirty.push_back({b.host + off, snapshot[i].data() + off});
  }
  auto bare_boot = [&] {
    for (const Dirty& d : dirty) std::memcpy(d.host, d.orig, kPage);
    module.reset();
    bare.reset_cpu();
    done = false;
    bare.run();
    if (!done) throw std::runtime_error("bare engine: a boot did not end with DONE");
  };

  sim::Session session(image);
  auto tdsim_boot = [&] {
    bool ok = false;
    session.run(limits, [&](const Event& e) {
      if (const auto* u = std::get_if<UcallEvent>(&e)) ok = u->cmd == tdsim::abi::kUcallDone;
    });
    if (!ok) throw std::runtime_error("tdsim: a boot did not end with DONE");
  };
  tdsim_boot();  // warm: translations are kept across resets

  std::vector<double> b, t;
  for (int rep = 0; rep < 5; ++rep) {  // alternating, so both see the same machine
    auto t0 = Clock::now();
    for (int i = 0; i < boots; ++i) bare_boot();
    b.push_back(boots / seconds_since(t0));
    t0 = Clock::now();
    for (int i = 0; i < boots; ++i) tdsim_boot();
    t.push_back(boots / seconds_since(t0));
  }
  return {median(b), median(t)};
}

// Seconds per TDCALL of tdcall_bench64 / ucall_bench64 on tdsim: (run(N) - run(1)) / (N - 1).
double tdsim_per_call(const simtest::Blob& code, uint64_t n, bool ucall) {
  auto make = [&](uint64_t count) {
    TdImage im = simtest::make_boot_image(code);
    simtest::set_bench_count(im, count);
    simtest::set_slot(im, 0, ucall ? tdsim::abi::kUcallPrintf : tdsim::abi::kUcallDone, ucall ? "tick" : "");
    if (ucall) simtest::set_slot(im, 1, tdsim::abi::kUcallDone);
    return im;
  };
  const TdImage big = make(n), small = make(1);
  sim::Session sb(big), ss(small);
  auto time = [&](sim::Session& s) {
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = Clock::now();
      s.run(kLimits, [](const Event&) {});
      t.push_back(seconds_since(t0));
    }
    return median(t);
  };
  return (time(sb) - time(ss)) / static_cast<double>(n - 1);
}

// The same for the bare engine: the hook reads the 14 registers, writes RAX = R10 = 0
// (success) back, steps over; the engine stops after the loop's N TDCALLs.
double bare_per_call(const simtest::Blob& code, uint64_t n) {
  auto time = [&](uint64_t count) {
    TdImage im = simtest::make_boot_image(code);
    simtest::set_bench_count(im, count);
    GuestMemory mem(im);
    fold_shared_bit_in_page_tables(im, mem);
    uint64_t seen = 0;
    BareEngine bare(im, mem, [&](uc_engine* uc, uint64_t) {
      uint64_t v[kNregs] = {};
      void* p[kNregs];
      for (int i = 0; i < kNregs; ++i) p[i] = &v[i];
      uc_reg_read_batch(uc, const_cast<int*>(kTdcallRegIds), p, kNregs);
      v[0] = 0;  // RAX: TDX_SUCCESS
      v[8] = 0;  // R10: TDG.VP.VMCALL success
      uc_reg_write_batch(uc, const_cast<int*>(kTdcallRegIds), p, kNregs);
      return ++seen < count;
    }, nullptr);
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) {
      seen = 0;
      bare.reset_cpu();
      const auto t0 = Clock::now();
      bare.run();
      t.push_back(seconds_since(t0));
    }
    return median(t);
  };
  return (time(n) - time(1)) / static_cast<double>(n - 1);
}

using Code = std::vector<uint8_t>;

// mov ecx, N; 1: dec ecx; jnz 1b; hlt
Code dec_jnz_loop(uint32_t n) {
  Code c = {0xb9, 0, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0xf4};
  std::memcpy(&c[1], &n, 4);
  return c;
}

// mov ecx, N; 1: twelve ALU instructions ending in dec ecx; jnz 1b; hlt
Code alu_loop(uint32_t n) {
  Code c = {0xb9, 0, 0, 0, 0,
            0x01, 0xd8,              // add eax, ebx
            0x31, 0xc2,              // xor edx, eax
            0x83, 0xc3, 0x03,        // add ebx, 3
            0x29, 0xda,              // sub edx, ebx
            0x09, 0xd6,              // or esi, edx
            0xd1, 0xe7,              // shl edi, 1
            0x31, 0xf7,              // xor edi, esi
            0x41, 0x01, 0xc0,        // add r8d, eax
            0x41, 0xff, 0xc2,        // inc r10d
            0x41, 0x89, 0xd3,        // mov r11d, edx
            0xff, 0xc9,              // dec ecx
            0x75, 0x00,              // jnz (patched below)
            0xf4};
  std::memcpy(&c[1], &n, 4);
  const size_t jnz = c.size() - 3;
  c[jnz + 1] = static_cast<uint8_t>(-static_cast<int>(jnz + 2 - 5));
  return c;
}

// What the bare engine runs the loop with: no hook, or the cheapest block hooks there are.
enum class BareHook { kNone, kEmptyBlock, kCountingBlock };

void empty_block_cb(uc_engine*, uint64_t, uint32_t, void*) {}
void counting_block_cb(uc_engine*, uint64_t, uint32_t, void* counter) { *static_cast<uint64_t*>(counter) += 2; }

// The loop on a bare 64-bit engine: paging off, from its first byte through its HLT
// (open_engine enables exit addresses and sets none, so `until` is ignored and the HLT
// ends the run, RIP after it).
double bare_loop_seconds(const Code& code, BareHook hook = BareHook::kNone) {
  uc_engine* uc = sim::open_engine(UC_MODE_64);
  std::vector<uint8_t> mem(0x10000, 0);
  std::memcpy(mem.data(), code.data(), code.size());
  uint64_t counter = 0;
  try {
    sim::uc_check(uc_mem_map_ptr(uc, 0x100000, mem.size(), UC_PROT_ALL, mem.data()), "uc_mem_map_ptr");
    uc_hook h;
    if (hook == BareHook::kEmptyBlock)
      sim::uc_check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(empty_block_cb), nullptr, 1, 0),
            "uc_hook_add(UC_HOOK_BLOCK, empty)");
    if (hook == BareHook::kCountingBlock)
      sim::uc_check(uc_hook_add(uc, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(counting_block_cb), &counter, 1, 0),
            "uc_hook_add(UC_HOOK_BLOCK, counter)");
  } catch (...) {
    uc_close(uc);
    throw;
  }
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    uint64_t rcx = ~0ull;
    uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
    const auto t0 = Clock::now();
    const uc_err e = uc_emu_start(uc, 0x100000, 0, 0, 0);
    t.push_back(seconds_since(t0));
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    if (e == UC_ERR_OK && (rcx != 0 || rip != 0x100000 + code.size())) {
      uc_close(uc);
      throw std::runtime_error(fmt::format("bare loop ended early: rcx {:#x}, rip {:#x}", rcx, rip));
    }
    if (e != UC_ERR_OK) {
      uc_close(uc);
      throw std::runtime_error(fmt::format("bare loop: {}", uc_strerror(e)));
    }
  }
  uc_close(uc);
  if (hook == BareHook::kCountingBlock && counter == 0) throw std::runtime_error("counting block hook never ran");
  return median(t);
}

// The same code on tdsim, after the hand-made boot stub; the run ends at its HLT (a
// shutdown: the image has no #VE gate).
double tdsim_loop_seconds(const Code& code, uint64_t max_insns) {
  const TdImage im = simtest::make_boot_image(simtest::Blob{code.data(), code.data() + code.size()});
  sim::Session s(im);
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    bool halted = false;
    const auto t0 = Clock::now();
    s.run(RunLimits{max_insns, std::chrono::milliseconds(60'000)},
          [&](const Event& e) { halted = test::hlt_shutdown(e) != nullptr; });
    t.push_back(seconds_since(t0));
    // The hand image has no IDT: its HLT is the TD's shutdown (tests/hlt_shutdown.h).
    if (!halted) throw std::runtime_error("tdsim loop did not end at its HLT");
  }
  return median(t);
}

void print_loop(const char* name, const Code& code, double insns) {
  const double bare = bare_loop_seconds(code);
  const double budget = tdsim_loop_seconds(code, 4'000'000'000);
  const double huge = tdsim_loop_seconds(code, UINT64_MAX);
  fmt::print("{:<34} bare {:7.1f} M insn/s | tdsim, budget asked {:7.1f} M insn/s = {:.3f}x | "
             "tdsim, no budget {:7.1f} M insn/s = {:.3f}x\n",
             name, insns / bare / 1e6, insns / budget / 1e6, bare / budget, insns / huge / 1e6, bare / huge);
  // The ceiling of any per-block count on this engine, in the same minutes.
  const double empty = bare_loop_seconds(code, BareHook::kEmptyBlock);
  const double counter = bare_loop_seconds(code, BareHook::kCountingBlock);
  fmt::print("{:<34} bare + empty block hook {:7.1f} M insn/s = {:.3f}x | bare + counting block hook {:7.1f} M "
             "insn/s = {:.3f}x | tdsim, budget asked = {:.3f}x the counting hook\n",
             (std::string(name) + ", ceiling").c_str(), insns / empty / 1e6, bare / empty, insns / counter / 1e6,
             bare / counter, counter / budget);
}

}  // namespace

// An optional argument names the one part to run (boot, trap, loop), for profiling it
// alone; exit 64 for any other argument.
int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  if (argc > 2 || (!only.empty() && only != "boot" && only != "trap" && only != "loop")) {
    fmt::print(stderr, "usage: tdsim_engine_ratio_bench [boot|trap|loop]\n");
    return 64;
  }
  auto runs = [&](const char* part) { return only.empty() || only == part; };
  try {
    // Boots.
    TdImage hand = simtest::make_boot_image(simtest::hello64());
    simtest::set_slot(hand, 0, tdsim::abi::kUcallPrintf, "hello");
    simtest::set_slot(hand, 1, tdsim::abi::kUcallDone);
    LayoutSpec spec;
    spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
    spec.guest_elf_name = "hello";
    const TdImage real = build_image(spec);
    // With no budget a lone vCPU runs with no block hook (docs/architecture.md, "Budgets").
    const RunLimits no_budget{UINT64_MAX, kLimits.timeout};
    struct Boot {
      const char* name;
      const TdImage* image;
      int n;
      const RunLimits* limits;
    };
    for (const Boot& b : runs("boot") ? std::vector<Boot>{Boot{"boot, hand stub + hello64", &hand, 2000, &kLimits},
                          Boot{"boot, built-in stub + hello guest", &real, 1000, &kLimits},
                          Boot{"boot, built-in stub, no budget", &real, 1000, &no_budget}}
                                      : std::vector<Boot>{}) {
      const char* name = b.name;
      const BootFigures f = boots_per_second(*b.image, b.n, *b.limits);
      fmt::print("{:<34} bare {:8.0f} boots/s ({:6.1f} us) | tdsim {:8.0f} boots/s ({:6.1f} us) = {:.3f}x bare\n",
                 name, f.bare, 1e6 / f.bare, f.tdsim, 1e6 / f.tdsim, f.tdsim / f.bare);
    }

    // TDCALL trap and ucall round trip.
    constexpr uint64_t kCalls = 200'000;
    if (runs("trap")) {
    const double bare_trap = bare_per_call(simtest::tdcall_bench64(), kCalls);
    const double trap = tdsim_per_call(simtest::tdcall_bench64(), kCalls, false);
    const double ucall = tdsim_per_call(simtest::ucall_bench64(), kCalls, true);
    fmt::print("{:<34} bare {:7.3f} us | tdsim {:7.3f} us = {:.2f}x bare\n", "TDCALL trap (no event)", bare_trap * 1e6,
               trap * 1e6, trap / bare_trap);
    fmt::print("{:<34} tdsim {:7.3f} us = {:.2f}x the bare trap (target <= 3x)\n", "ucall round trip (PRINTF)",
               ucall * 1e6, ucall / bare_trap);
    }

    // Guest compute.
    constexpr uint32_t kIter = 20'000'000;
    if (runs("loop")) {
      print_loop("DEC+JNZ loop (2 insns)", dec_jnz_loop(kIter), 2.0 * kIter);
      print_loop("ALU loop (12 insns)", alu_loop(kIter / 4), 12.0 * (kIter / 4));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "engine_ratio_bench: {}\n", e.what());
    return 70;
  }
  return 0;
}
