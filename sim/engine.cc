#include "engine.h"

#include <malloc.h>
#include <sys/prctl.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "uc_error.h"

namespace tdsim::sim {

namespace {

// Unicorn 2.1 frees and reallocates large blocks on every TLB flush and translation
// drop (its CPU TLB tables are resized as they fill). Each free of a large mmap'ed
// block raises glibc's dynamic mmap threshold, after which such blocks come from the
// brk heap and fragment it: RSS grew ~460 KiB per Session reset and ~285 KiB per
// engine open/close over 1,000 cycles (tests/hostile/resource_hygiene_test.cc). Pinning
// the threshold at glibc's default keeps large blocks in mmap and RSS flat. It is
// process-wide, set once, and changes only where glibc places large blocks.
void pin_malloc_mmap_threshold() {
  static std::once_flag once;
  std::call_once(once, [] { mallopt(M_MMAP_THRESHOLD, 128 * 1024); });
}

}  // namespace

uc_engine* open_engine(uc_mode mode) {
  pin_malloc_mmap_threshold();
  uc_engine* uc = nullptr;
  uc_check(uc_open(UC_ARCH_X86, mode, &uc), mode == UC_MODE_64 ? "uc_open(UC_ARCH_X86, UC_MODE_64)"
                                                               : "uc_open(UC_ARCH_X86, UC_MODE_32)");
  // The TD's CPUID (tdx/td_cpuid.cc) shows SSSE3, SSE4.1/4.2, POPCNT, AES, PCLMULQDQ,
  // MOVBE, RDRAND, BMI and ADX; QEMU's translator refuses an instruction whose feature
  // its own CPU model lacks, and the default model (qemu64) lacks all of these, so a
  // guest that believed its CPUID took #UD (OVMF's RngDxe at its first RDRAND). Icelake
  // Server is the newest Intel server model Unicorn 2.1 has, the closest to Sapphire
  // Rapids, the first TDX generation (docs/engine-quirks.md, "CPUID is the engine's own").
  // Like the buffer size below, the model must be set before the engine's first use.
  uc_err err = uc_ctl_set_cpu_model(uc, UC_CPU_X86_ICELAKE_SERVER);
  if (err != UC_ERR_OK) {
    uc_close(uc);
    uc_check(err, "uc_ctl_set_cpu_model(UC_CPU_X86_ICELAKE_SERVER)");
  }
  // Must precede the first use of the engine: the buffer is allocated on it.
  err = uc_ctl_set_tcg_buffer_size(uc, kTcgBufferBytes);
  if (err != UC_ERR_OK) {
    uc_close(uc);
    uc_check(err, "uc_ctl_set_tcg_buffer_size");
  }
  // Exit addresses instead of uc_emu_start's `until`: the engine translates an `until`
  // address through the guest's page tables at every start, and the failed walk of
  // ~0 left CR2 = 0xff..fe and a #PF in QEMU's exception record (docs/engine-quirks.md).
  // tdsim never stops at an address (its hooks stop the engine), so the list stays empty.
  err = uc_ctl_exits_enable(uc);
  if (err != UC_ERR_OK) {
    uc_close(uc);
    uc_check(err, "uc_ctl_exits_enable");
  }
  return uc;
}

namespace {

std::atomic<bool> g_leave_to_exit{false};

// Never destroyed: the engines in it stay reachable until the process is gone.
std::vector<uc_engine*>& parked_engines() {
  static auto* parked = new std::vector<uc_engine*>;
  return *parked;
}
std::mutex g_parked_lock;

}  // namespace

void leave_engines_to_exit() { g_leave_to_exit.store(true, std::memory_order_relaxed); }

void close_engine(uc_engine* uc) {
  if (!uc) return;
  if (g_leave_to_exit.load(std::memory_order_relaxed)) {
    try {
      std::lock_guard<std::mutex> lock(g_parked_lock);
      parked_engines().push_back(uc);
      return;
    } catch (...) {
      // No room to park it (called from destructors: nothing may escape): close it.
    }
  }
  uc_close(uc);
}

bool keep_code_buffers_off_huge_pages() { return prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0; }

void write_cr2(uc_engine* uc, uint64_t cr2) {
  uint64_t cr3 = 0;
  uc_check(uc_reg_read(uc, UC_X86_REG_CR3, &cr3), "uc_reg_read(CR3)");
  uc_check(uc_reg_write(uc, UC_X86_REG_CR2, &cr2), "uc_reg_write(CR2)");
  uc_check(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), "uc_reg_write(CR3) after CR2");
}

}  // namespace tdsim::sim
