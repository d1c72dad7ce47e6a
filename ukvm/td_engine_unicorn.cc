// TdEngine on the Unicorn mechanism (sim/): the TD a program built through the user-space
// KVM, its memory mapped from the program's own pages, its vCPUs in the TD initial state
// at the reset vector, and the platform (tdx/) with KVM's userspace exits handed to the
// program instead of tdsim's VMM model.
//
// A userspace exit is taken by replaying the TDCALL: the module's sub-function runs up to
// the exit, which goes out (TdxModule::set_userspace returns no answer, the TDCALL is
// deferred and RIP stays on it); the next run() holds the program's completion, and the
// same TDCALL — the guest's registers cannot have changed — runs again and gets it.
// Everything happens on the thread that calls run(), as KVM_RUN does.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <map>
#include <optional>
#include <stdexcept>

#include "core/guest_memory.h"
#include "core/shared_bit_fold.h"
#include "gdbstub/following_run_control.h"
#include "sim/sim_debug_target.h"
#include "core/td_image.h"
#include "sim/vcpu.h"
#include "tdsim/abi/td_boot.h"
#include "tdx/tdx_module.h"
#include "td_engine.h"

namespace tdsim::ukvm {

namespace {

// Instructions per run_slice: how often a kick() is noticed and another vCPU's thread
// gets the engines.
constexpr uint64_t kSliceInsns = 200'000;

// The vCPUs' engines take turns, in the order their threads asked (a ticket lock): one
// engine runs at a time, as in SimVm, because a LOCK-prefixed instruction is atomic only
// within one engine and the TDX module's state is not shared-safe. First come, first
// served, so a vCPU spinning at a barrier cannot starve the one it waits for.
class Turns {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(m_);
    const uint64_t ticket = next_++;
    cv_.wait(l, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(m_);
      ++serving_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  uint64_t next_ = 0, serving_ = 0;
};
// Regions reserved up front: Region pointers handed to GuestMemory and the vCPUs must stay
// valid when add_memory() appends one.
constexpr size_t kMaxRegions = 4096;

class UnicornTdEngine final : public TdEngine {
 public:
  explicit UnicornTdEngine(TdSetup setup);
  RunExit run(uint32_t index, const tdx::VmmCompletion* answer) override;
  void kick(uint32_t index) override;
  void add_memory(const GuestRange& range) override;
  void set_memory(const GuestRange& range) override;
  std::vector<uint8_t> mrtd() const override;
  gdbstub::FollowingRunControl* follow_debugger() override;

 private:
  struct VcpuState {
    std::unique_ptr<sim::Vcpu> vcpu;
    std::atomic<bool> kicked{false};
    std::optional<tdx::UserspaceExit> out;      // the exit the program is answering
    std::optional<tdx::VmmCompletion> answer;   // its completion, for the replayed TDCALL
    bool ended = false;
  };
  static TdImage image_for(const TdSetup& setup);
  std::optional<tdx::VmmCompletion> userspace(const tdx::UserspaceExit& x);
  void set_memory_in_turn(const GuestRange& range);  // the caller has its turn

  TdSetup setup_;
  sim::TraceOptions trace_;  // what the vCPUs trace, from setup_.trace
  TdImage image_;
  std::unique_ptr<GuestMemory> mem_;
  std::unique_ptr<tdx::TdxModule> module_;
  FoldedSharedLeaves shared_leaves_;  // where the program's page tables map shared GPAs (vCPUs point at it)
  std::vector<std::unique_ptr<VcpuState>> vcpus_;
  std::vector<GuestRange> ranges_;  // what backs the TD's memory now, by GPA
  Turns turns_;                     // held while any engine runs or its memory changes
  // tdsim exec --gdb: the facet over the vCPUs and the run control their turns follow.
  std::unique_ptr<sim::SimDebugTarget> debug_;
  std::unique_ptr<gdbstub::FollowingRunControl> follow_;
  std::atomic<gdbstub::FollowingRunControl*> following_{nullptr};  // follow_, for kick()
};

TdImage UnicornTdEngine::image_for(const TdSetup& setup) {
  if (setup.gpaw != 48 && setup.gpaw != 52)
    throw std::runtime_error(fmt::format("guest physical address width {} (must be 48 or 52)", setup.gpaw));
  if (setup.nr_vcpus == 0) throw std::runtime_error("the TD has no vCPU");
  if (setup.memory.size() > kMaxRegions)
    throw std::runtime_error(fmt::format("{} memory ranges (at most {})", setup.memory.size(), kMaxRegions));
  TdImage im;
  im.gpaw = setup.gpaw;
  im.shared_bit = 1ull << (setup.gpaw - 1);
  im.nr_vcpus = setup.nr_vcpus;
  im.regions.reserve(kMaxRegions);
  for (const GuestRange& r : setup.memory) {
    if (!r.host) throw std::runtime_error(fmt::format("memory range at GPA {:#x} has no host memory", r.gpa));
    im.regions.push_back(make_region(fmt::format("{} {:#x}", r.shared ? "shared" : "private", r.gpa),
                                     RegionKind::kRam, r.gpa, r.size, {}, false, r.shared));
  }
  // The boot code a program places below 4 GiB is its boot stub: the page holding the
  // reset vector gets the stub's CR-write checks and boot trace.
  im.stub_gpa = abi::kResetVector & ~0xfffull;
  im.stub_size = abi::kFourGiB - im.stub_gpa;
  return im;
}

UnicornTdEngine::UnicornTdEngine(TdSetup setup)
    : setup_(std::move(setup)), image_(image_for(setup_)), ranges_(setup_.memory) {
  std::vector<uint8_t*> hosts;
  for (const GuestRange& r : setup_.memory) hosts.push_back(r.host);
  try {
    mem_ = std::make_unique<GuestMemory>(image_, hosts);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  module_ = std::make_unique<tdx::TdxModule>(image_, *mem_, setup_.config);
  try {
    module_->build_td(setup_.pages);
  } catch (const tdx::TdBuildError& e) {
    throw std::runtime_error(fmt::format("TD build: {}", e.what()));
  }
  module_->set_userspace([this](const tdx::UserspaceExit& x) { return userspace(x); });
  const TdSetup::Trace& t = setup_.trace;
  if ((t.insn || t.boot || t.tdcall) && !t.sink) throw std::runtime_error("trace asked for without a sink");
  trace_.insn = t.insn, trace_.boot = t.boot, trace_.tdcall = t.tdcall;
  trace_.sink = t.sink;
  for (uint32_t i = 0; i < setup_.nr_vcpus; ++i) {
    auto s = std::make_unique<VcpuState>();
    // Each vCPU has its own INIT_VCPU data; the reset state (core/td_initial_state.h)
    // takes it from the image as the vCPU is made, and the vCPU keeps that state.
    image_.init_rcx = i < setup_.init_rcx.size() ? setup_.init_rcx[i] : 0;
    s->vcpu = std::make_unique<sim::Vcpu>(i, image_, *mem_, *module_);
    // One event per slice end: the engine hands each out as KVM_RUN returns.
    s->vcpu->set_stop_after_event(true);
    // The program's page tables carry the shared bit in shared leaves (as a TD's must).
    // The leaves folded say where shared memory is: a shared GPA without a memslot is
    // KVM's MMIO, which a TD takes as a #VE.
    s->vcpu->set_fold_shared_bit_on_fault(&shared_leaves_);
    if (t.insn || t.boot || t.tdcall) s->vcpu->set_trace(&trace_);
    vcpus_.push_back(std::move(s));
  }
  // TDG.MR.REPORT writes guest memory the engines may have translated as code.
  module_->set_host_write_observer([this](uint64_t, uint64_t) {
    for (auto& v : vcpus_) v->vcpu->request_code_flush();
  });
}

std::optional<tdx::VmmCompletion> UnicornTdEngine::userspace(const tdx::UserspaceExit& x) {
  VcpuState& s = *vcpus_.at(x.vcpu);
  if (s.answer) {
    // The replayed TDCALL: its exit is the one the program answered (same registers).
    tdx::VmmCompletion c = std::move(*s.answer);
    s.answer.reset();
    s.out.reset();
    return c;
  }
  s.out = x;
  return std::nullopt;
}

RunExit UnicornTdEngine::run(uint32_t index, const tdx::VmmCompletion* answer) {
  if (index >= vcpus_.size()) throw std::out_of_range(fmt::format("vCPU {} does not exist", index));
  VcpuState& s = *vcpus_[index];
  if (s.ended) return Shutdown{"the vCPU has shut down", {}};
  if (s.out) {
    // The program answers the exit it was given; without an answer (it may ignore the
    // data of a write) the completion is empty: zeros, status success.
    s.answer = answer ? *answer : tdx::VmmCompletion{};
  }
  std::optional<RunExit> result;
  const EventSink sink = [&](const Event& e) {
    if (setup_.events) setup_.events(e);
    if (const auto* f = std::get_if<FaultEvent>(&e)) {
      std::string reason = f->detail;
      result = Shutdown{std::move(reason), f->explanation};
    } else if (std::holds_alternative<HaltEvent>(e)) {
      result = Halted{};
    }
    // TDCALLs the module refused, VMCALLs KVM completed in the kernel: the guest goes on;
    // a real KVM_RUN does not return for them either.
  };
  sim::Vcpu& v = *s.vcpu;
  {
    std::lock_guard<Turns> turn(turns_);
    if (v.stopped() && !v.resume()) {
      s.ended = true;
      return Shutdown{"the vCPU has shut down", {}};
    }
  }
  gdbstub::FollowingRunControl* const gdb = follow_.get();
  for (;;) {
    if (s.kicked.exchange(false)) return Interrupted{};
    // Under a debugger the vCPU waits here while gdb holds the TD; a signal still ends
    // the KVM_RUN (kick() wakes the wait).
    if (gdb && !gdb->wait_for_turn(index, [&] { return s.kicked.load(std::memory_order_acquire); })) continue;
    std::lock_guard<Turns> turn(turns_);
    std::optional<gdbstub::FollowingRunControl::Grant> grant;
    if (gdb && !(grant = gdb->grant(index))) continue;  // held again while this thread waited for its turn
    const uint64_t done = v.executed();
    if (done >= setup_.max_insns) return BudgetExceeded{done, v.describe_position()};
    const uint64_t slice = grant && grant->single_step ? 1 : std::min<uint64_t>(kSliceInsns, setup_.max_insns - done);
    const sim::Vcpu::SliceEnd end =
        gdb ? debug_->run_slice(index, slice, grant->breakpoints, sink, s.kicked) : v.run_slice(slice, sink, s.kicked);
    if (gdb) gdb->turn_ended(index, *grant, sim::debug_stop(end, v), end == sim::Vcpu::SliceEnd::kDeferred);
    if (end == sim::Vcpu::SliceEnd::kDeferred) return *s.out;
    if (result) {
      if (std::holds_alternative<Shutdown>(*result)) s.ended = true;
      return *result;
    }
    if (end == sim::Vcpu::SliceEnd::kStopped) {
      s.ended = true;
      return Shutdown{"the vCPU stopped", {}};
    }
  }
}

void UnicornTdEngine::kick(uint32_t index) {
  if (index < vcpus_.size()) vcpus_[index]->kicked.store(true, std::memory_order_release);
  if (gdbstub::FollowingRunControl* f = following_.load(std::memory_order_acquire)) f->wake();
}

gdbstub::FollowingRunControl* UnicornTdEngine::follow_debugger() {
  std::lock_guard<Turns> turn(turns_);
  if (follow_) return follow_.get();
  std::vector<sim::Vcpu*> vcpus;
  for (auto& v : vcpus_) vcpus.push_back(v->vcpu.get());
  debug_ = std::make_unique<sim::SimDebugTarget>(image_, *mem_, std::move(vcpus),
                                                 [this](uint64_t gpa, const void* src, uint64_t len) {
                                                   if (!mem_->write(gpa, src, len)) return false;
                                                   for (auto& v : vcpus_) v->vcpu->request_code_flush();
                                                   return true;
                                                 });
  gdbstub::FollowingRunControl::EngineHooks hooks;
  hooks.lock = [this] { turns_.lock(); };
  hooks.unlock = [this] { turns_.unlock(); };
  hooks.stop_running = [this] {
    for (auto& v : vcpus_) v->vcpu->request_stop();
  };
  follow_ = std::make_unique<gdbstub::FollowingRunControl>(*debug_, std::move(hooks));
  following_.store(follow_.get(), std::memory_order_release);
  return follow_.get();
}

void UnicornTdEngine::add_memory(const GuestRange& range) {
  std::lock_guard<Turns> turn(turns_);
  for (const GuestRange& r : ranges_)
    if (range.gpa < r.gpa + r.size && r.gpa < range.gpa + range.size)
      throw std::runtime_error(fmt::format("memory at GPA {:#x} size {:#x} overlaps the range at {:#x}", range.gpa,
                                           range.size, r.gpa));
  set_memory_in_turn(range);
}

void UnicornTdEngine::set_memory(const GuestRange& range) {
  std::lock_guard<Turns> turn(turns_);
  set_memory_in_turn(range);
}

void UnicornTdEngine::set_memory_in_turn(const GuestRange& range) {
  if (!range.host || ((range.gpa | range.size) & 0xfff) || range.size == 0 || range.gpa + range.size < range.gpa)
    throw std::runtime_error(fmt::format("memory at GPA {:#x} size {:#x}: not page aligned, empty, wrapping or "
                                         "without host memory",
                                         range.gpa, range.size));
  // The ranges outside the new one stay; the parts of old ranges inside it go.
  const uint64_t end = range.gpa + range.size;
  std::vector<GuestRange> next;
  for (const GuestRange& r : ranges_) {
    const uint64_t r_end = r.gpa + r.size;
    if (r_end <= range.gpa || r.gpa >= end) {
      next.push_back(r);
      continue;
    }
    if (r.gpa < range.gpa) next.push_back(GuestRange{r.gpa, range.gpa - r.gpa, r.host, r.shared});
    if (r_end > end) next.push_back(GuestRange{end, r_end - end, r.host + (end - r.gpa), r.shared});
  }
  next.push_back(range);
  std::sort(next.begin(), next.end(), [](const GuestRange& a, const GuestRange& b) { return a.gpa < b.gpa; });
  if (next.size() > kMaxRegions)
    throw std::runtime_error(fmt::format("more than {} memory ranges", kMaxRegions));
  // The regions are rebuilt in place (their capacity was reserved, so the vector's
  // storage stays where the vCPUs and the module see it), then the memory over them.
  std::vector<uint8_t*> hosts;
  image_.regions.clear();
  for (const GuestRange& r : next) {
    image_.regions.push_back(make_region(fmt::format("{} {:#x}", r.shared ? "shared" : "private", r.gpa),
                                         RegionKind::kRam, r.gpa, r.size, {}, false, r.shared));
    hosts.push_back(r.host);
  }
  mem_->rebind(image_, hosts);
  ranges_ = std::move(next);
  for (auto& v : vcpus_) v->vcpu->remap(range.gpa, range.size);
}

std::vector<uint8_t> UnicornTdEngine::mrtd() const {
  const measure::Mrtd& m = module_->mrtd();
  return std::vector<uint8_t>(m.digest.begin(), m.digest.end());
}

}  // namespace

std::unique_ptr<TdEngine> TdEngine::create(TdSetup setup) { return std::make_unique<UnicornTdEngine>(std::move(setup)); }

}  // namespace tdsim::ukvm
