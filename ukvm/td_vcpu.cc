#include "td_vcpu.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "capabilities.h"
#include "core/text_escape.h"
#include "event_log.h"
#include "exec_options.h"
#include "notice.h"
#include "run_exit.h"
#include "td_vm.h"
#include "user_copy.h"

namespace tdsim::ukvm {

namespace t = kvm::tdx;

namespace {

// The vCPU this thread is running in KVM_RUN (null outside it). Read by the signal path,
// so a plain pointer set before and cleared after the run.
thread_local TdVcpu* tl_vcpu = nullptr;

struct RunningOnThisThread {
  explicit RunningOnThisThread(TdVcpu* v) { __atomic_store_n(&tl_vcpu, v, __ATOMIC_SEQ_CST); }
  ~RunningOnThisThread() { __atomic_store_n(&tl_vcpu, nullptr, __ATOMIC_SEQ_CST); }
};

// A halted vCPU's sleep is ended by kick(); the limit only bounds a wake that never comes.
constexpr auto kHaltWaitLimit = std::chrono::seconds(1);

}  // namespace

void kick_running_vcpu_of_this_thread() {
  if (TdVcpu* v = __atomic_load_n(&tl_vcpu, __ATOMIC_SEQ_CST)) v->kick();
}

void TdVcpu::kick() noexcept {
  kicked_.store(true, std::memory_order_release);
  if (TdEngine* e = running_engine_.load(std::memory_order_acquire)) e->kick(index_);
  wake_.wake();
}

long TdVcpu::wait_while_halted() {
  for (;;) {
    const uint32_t seen = wake_.seen();
    if (kicked_.exchange(false, std::memory_order_acq_rel)) break;
    wake_.wait(seen, kHaltWaitLimit);
  }
  // KVM's signal exit: exit_reason KVM_EXIT_INTR, the rest of kvm_run as it was.
  return write_run_exit(*run_, kVcpuMmapSize, Halted{});
}

TdVcpu::~TdVcpu() { munmap(run_, kVcpuMmapSize); }

long TdVcpu::ioctl(unsigned long request, unsigned long arg) {
  switch (request) {
    case t::kKvmMemoryEncryptOp: return memory_encrypt_op(arg);
    case t::kKvmSetCpuid2: return set_cpuid2(arg);
    case t::kKvmGetCpuid2: return get_cpuid2(arg);
    case KVM_SET_MP_STATE: {
      kvm_mp_state s{};
      if (const int err = read_user(s, arg)) return err;
      if (s.mp_state != KVM_MP_STATE_RUNNABLE) return -EINVAL;
      halted_ = false;  // the next KVM_RUN carries on after the HLT
      return 0;
    }
    case KVM_GET_MP_STATE:
      return write_user(arg, kvm_mp_state{halted_ ? uint32_t{KVM_MP_STATE_HALTED} : uint32_t{KVM_MP_STATE_RUNNABLE}});
    case KVM_GET_TSC_KHZ: return kTscKhz;
    case KVM_GET_STATS_FD: return new_stats_fd(fmt::format("kvm-{}/vcpu-{}", getpid(), id_));
    // A TD's register state is protected: KVM refuses to read or write it.
    case KVM_GET_REGS:
    case KVM_SET_REGS:
    case KVM_GET_SREGS:
    case KVM_SET_SREGS:
    case KVM_GET_FPU:
    case KVM_SET_FPU: return -EINVAL;
    default: return unimplemented("vCPU", request, ENOTTY);
  }
}

long TdVcpu::memory_encrypt_op(unsigned long arg) {
  t::TdxCmd cmd{};
  if (const int err = read_user(cmd, arg)) return err;
  if (cmd.hw_error) return -EINVAL;
  // tdx_vcpu_ioctl: only between INIT_VM and FINALIZE.
  if (vm_.state() != TdVm::State::kInitialized) return -EINVAL;
  long r;
  switch (cmd.id) {
    case t::kTdxInitVcpu:
      if (cmd.flags) return -EINVAL;
      if (initialized_) return -EINVAL;
      if (const tdx::SeamcallResult s = vm_.build()->vp_init(); !s.ok()) {
        notice(fmt::format("KVM_TDX_INIT_VCPU: TDH.VP.INIT failed: {}", s.why));
        return -EIO;
      }
      init_rcx_ = cmd.data;
      initialized_ = true;
      r = 0;
      break;
    case t::kTdxInitMemRegion: r = init_mem_region(cmd); break;
    case t::kTdxGetCpuid: r = cmd.flags ? -EINVAL : get_td_cpuid(cmd.data); break;
    default: return -EINVAL;
  }
  cmd.hw_error = 0;
  if (const int err = write_user(arg, cmd)) return err;
  return r;
}

long TdVcpu::init_mem_region(const t::TdxCmd& cmd) {
  if (cmd.flags & ~t::kTdxMeasureMemoryRegion) return -EINVAL;
  if (!initialized_) return -EINVAL;
  t::TdxInitMemRegion region{};
  if (const int err = read_user(region, cmd.data)) return err;
  const uint64_t shared_bit = 1ull << (vm_.gpaw() - 1);
  const uint64_t end = region.gpa + (region.nr_pages << 12);
  if ((region.source_addr & 0xfff) || (region.gpa & 0xfff) || region.nr_pages == 0 ||
      region.nr_pages > (1ull << 40) || end <= region.gpa || (region.gpa & shared_bit) || ((end - 1) & shared_bit) ||
      end - 1 >= (shared_bit << 1))
    return -EINVAL;
  // Page by page, with the region written back after each, so a failed call can be
  // resumed where it stopped (as KVM does).
  while (region.nr_pages) {
    if (const long err = vm_.add_private_page(region.gpa, region.source_addr,
                                              cmd.flags & t::kTdxMeasureMemoryRegion))
      return err;
    region.gpa += 4096;
    region.source_addr += 4096;
    --region.nr_pages;
    if (const int err = write_user(cmd.data, region)) return err;
  }
  return 0;
}

long TdVcpu::get_td_cpuid(uint64_t data) {
  t::Cpuid2Header h{};
  if (const int err = read_user(h, data)) return err;
  const auto& entries = vm_.td_cpuid();
  if (h.nent < entries.size()) {
    // KVM reports how many entries it needs.
    h.nent = static_cast<uint32_t>(entries.size());
    if (const int err = write_user(data, h)) return err;
    return -E2BIG;
  }
  h.nent = static_cast<uint32_t>(entries.size());
  if (const int err = copy_to_user(data + sizeof h, entries.data(), entries.size() * sizeof entries[0])) return err;
  return write_user(data, h);
}

long TdVcpu::set_cpuid2(unsigned long arg) {
  t::Cpuid2Header h{};
  if (const int err = read_user(h, arg)) return err;
  if (h.nent > kMaxCpuidEntries) return -E2BIG;
  std::vector<t::CpuidEntry2> entries(h.nent);
  if (const int err = copy_from_user(entries.data(), arg + sizeof h, entries.size() * sizeof(t::CpuidEntry2))) return err;
  // After the first KVM_RUN the CPUID may not change (KVM accepts an identical table).
  if (ran_) {
    const bool same = entries.size() == cpuid_.size() &&
                      std::memcmp(entries.data(), cpuid_.data(), entries.size() * sizeof(t::CpuidEntry2)) == 0;
    return same ? 0 : -EINVAL;
  }
  cpuid_ = std::move(entries);
  return 0;
}

long TdVcpu::get_cpuid2(unsigned long arg) {
  t::Cpuid2Header h{};
  if (const int err = read_user(h, arg)) return err;
  if (h.nent < cpuid_.size()) return -E2BIG;
  h.nent = static_cast<uint32_t>(cpuid_.size());
  if (const int err = copy_to_user(arg + sizeof h, cpuid_.data(), cpuid_.size() * sizeof(t::CpuidEntry2))) return err;
  return write_user(arg, h);
}

long TdVcpu::run() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  std::shared_ptr<TdEngine> engine;
  {
    std::lock_guard<std::mutex> lock(kvm_lock());
    // tdx_vcpu_pre_run: the TD must be finalized and this vCPU initialized.
    if (vm_.state() != TdVm::State::kFinalized || !initialized_) return -EINVAL;
    engine = vm_.engine();
  }
  // The previous exit's completion is taken on this KVM_RUN even when it returns at once
  // for immediate_exit, as KVM's complete_userspace_io runs first.
  if (last_) {
    if (const auto* u = std::get_if<tdx::UserspaceExit>(&*last_)) answer_ = read_completion(*run_, kVcpuMmapSize, *u);
    last_.reset();
  }
  if (run_->immediate_exit) return -EINTR;  // exit_reason and exit data left as they are
  if (dead_) return -EIO;
  if (!engine) {
    notice("KVM_RUN: this libtdsim_kvm.so was built without the TD engine (ukvm/td_engine_unicorn.cc): ENOSYS");
    return -ENOSYS;
  }
  // A signal before this KVM_RUN is not pending in it (its handler has run).
  kicked_.store(false, std::memory_order_release);
  RunningOnThisThread running(this);
  if (halted_) return wait_while_halted();
  RunExit exit;
  ran_ = true;
  try {
    running_engine_.store(engine.get(), std::memory_order_release);
    exit = engine->run(index_, answer_ ? &*answer_ : nullptr);
    running_engine_.store(nullptr, std::memory_order_release);
  } catch (const std::exception& e) {
    running_engine_.store(nullptr, std::memory_order_release);
    notice(fmt::format("KVM_RUN on vCPU {}: engine error: {}", id_, escape_text(e.what())));
    return -EIO;
  }
  answer_.reset();
  if (std::holds_alternative<Halted>(exit)) {
    // A TD's local APIC is in the kernel: KVM puts the vCPU in HALTED and blocks in
    // KVM_RUN until an interrupt (none is modelled) or a signal; no KVM_EXIT_HLT.
    halted_ = true;
    return wait_while_halted();
  }
  if (const auto* b = std::get_if<BudgetExceeded>(&exit)) {
    // The whole program's budget, as tdsim run's: no KVM exit means "out of instructions".
    notice(fmt::format("vCPU {} ran out of its instruction budget ({} instructions); the program ends with 124",
                       id_, b->executed));
    for (const std::string& line : b->position) notice("  " + escape_text(line));
    log_event(BudgetExceededEvent{BudgetExceededEvent::Kind::kInstructions, exec_options().max_insns, b->position});
    _exit(124);
  }
  if (const auto* s = std::get_if<Shutdown>(&exit); s && exec_options().explain) {
    notice(fmt::format("vCPU {} shut down: {}", id_, escape_text(s->reason)));
    for (const std::string& line : s->explanation) notice("  " + escape_text(line));
  }
  const int r = write_run_exit(*run_, kVcpuMmapSize, exit);
  if (!reenterable(exit)) dead_ = true;
  if (std::holds_alternative<tdx::UserspaceExit>(exit)) last_ = std::move(exit);
  return r;
}

}  // namespace tdsim::ukvm
