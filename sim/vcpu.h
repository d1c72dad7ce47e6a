// One TD vCPU on its own Unicorn engine: guest memory mapped, the TD reset state, and
// the hooks that turn engine stops into Events (TDCALL, CPUID leaf 0x21, exceptions,
// HLT, unmapped memory). Runs one bounded slice at a time for the scheduler.
// Knows tdx::TdxModule and the Event types; not the scheduler or the backend.
#pragma once
#include <unicorn/unicorn.h>

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "block_facts_cache.h"
#include "block_hook_gate.h"
#include "core/backend.h"
#include "core/debug_target.h"
#include "core/guest_memory.h"
#include "core/shared_bit_fold.h"
#include "core/td_image.h"
#include "diag/module_tracker.h"
#include "far_transfer.h"
#include "stub_monitor.h"
#include "tdx/tdx_module.h"
#include "exception_record.h"
#include "trace.h"

namespace tdsim::sim {

class Vcpu {
 public:
  // Maps every block of `mem` at its untagged GPA and loads the TD reset state.
  // `image`, `mem` and `tdx` must outlive the vCPU. Throws BackendError.
  Vcpu(uint32_t index, const TdImage& image, GuestMemory& mem, tdx::TdxModule& tdx);
  ~Vcpu();
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;

  // Page tables nobody described (a program's own, ukvm/): a #PF whose walk holds the
  // TD's shared bit, which the engine takes for a reserved bit, gets the bit folded out
  // of those entries (core/shared_bit_fold.h) and the instruction runs again; a #PF
  // without one is the guest's. Off by default: tdsim's layout is folded beforehand.
  // `leaves` (the TD's, shared by its vCPUs, outliving them) records the shared leaves
  // folded: a data access there that no memory backs is the TD's MMIO, a #VE
  // (ept_violation.cc), as in the layout's shared MMIO window. nullptr: off.
  void set_fold_shared_bit_on_fault(FoldedSharedLeaves* leaves) { folded_leaves_ = leaves; }
  // Firmware progress: a MilestoneEvent the first time a block runs in a firmware module
  // (diag/module_tracker.h). Off by default; on for firmware images.
  void set_module_tracking(bool on);
  uint64_t shared_bit_folds() const { return shared_bit_folds_; }

  // Maps one more block of the vCPU's GuestMemory (added after construction).
  void map_block(const GuestMemory::Block& b);
  // Maps these blocks, runs that follow each other in GPA and host as one mapping.
  void map_blocks(std::vector<const GuestMemory::Block*> bs);
  // [gpa, gpa+size) is backed by other blocks now (GuestMemory::rebind): what the engine
  // mapped there goes, the blocks inside it are mapped, translated code and TLB dropped.
  void remap(uint64_t gpa, uint64_t size);

  // Back to the TD reset state (saved context; TLB flushed); TDCALL sites stay hooked.
  void reset();

  enum class SliceEnd {
    kExhausted,  // ran `max_insns` instructions; resume later
    kStopped,    // a terminal event was reported; never resume
    kCancelled,  // `cancel` was set (wall clock) and the engine stopped early
    kBreakpoint,  // reached an address of set_breakpoints(); that instruction has not run
    kEvent,      // with set_stop_after_event: an event was reported; resume later
    kWatchpoint,  // after an instruction whose data access hit set_watchpoints(); see watch_hit()
    kDeferred,   // a TDCALL went out to userspace (TdxModule::set_userspace) and waits for
                 // its answer: RIP is at the TDCALL, which runs again on the next slice
  };
  // Runs at most `max_insns` guest instructions, reporting events to `sink`.
  // UINT64_MAX asks for no count: unless something else needs the block hook (stepping
  // on events, firmware module tracking, exact counting), the slice runs with no
  // per-block hook at all and ends only at a stop, `cancel` or request_stop();
  // executed() does not grow meanwhile (docs/architecture.md, "Budgets").
  SliceEnd run_slice(uint64_t max_insns, const EventSink& sink, const std::atomic<bool>& cancel);
  // From any thread (the host API's kick): the running slice returns kExhausted at the
  // next block boundary, one not yet started returns it at once.
  void request_stop();

  // Debugger breakpoints (gdbstub/): run_slice stops before an instruction at any of
  // these addresses, even one a TDCALL site hook handles. nullptr: none (the default; the
  // scheduler never sets any). `bps` must outlive the slices run with it.
  void set_breakpoints(const std::set<uint64_t>* bps);

  // Instruction accounting. By default instructions are counted per translation block
  // (one block hook; each block's count decoded once and cached), so a slice or budget
  // ends at the first block boundary past its limit. A debugger that steps single
  // instructions asks for exact counting: a per-instruction hook, every stop exact.
  // Breakpoints, watchpoints and the instruction trace turn it on by themselves.
  void set_exact_count(bool on);

  // Debugger watchpoints: run_slice returns kWatchpoint before the instruction after one
  // whose guest data access (by GVA, as the engine's memory hooks see it) overlaps a
  // range of the matching kind. A memory hook exists only while `w` is non-empty, so an
  // undebugged run pays nothing. `w` must outlive the slices run with it.
  struct Watch {
    WatchKind kind;
    uint64_t addr, len;
  };
  void set_watchpoints(const std::vector<Watch>* w);
  // The watchpoint the last kWatchpoint slice stopped for.
  const Watch& watch_hit() const { return watch_hit_; }

  // Told of every TDCALL this vCPU makes, as the trace formats it (the debugger's TDCALL
  // log). Empty: none (the default).
  void set_tdcall_observer(std::function<void(const std::string&)> o) { tdcall_observer_ = std::move(o); }

  // The host API's stepping: run_slice returns kEvent after each non-terminal event, the
  // next instruction not yet run.
  void set_stop_after_event(bool on) { stop_after_event_ = on; }
  // Set while other vCPUs wait for their turn: a slice ends after a block holding a
  // PAUSE (a spin-wait, which nothing but another vCPU's progress can end) instead of
  // spinning out its instructions. Where the turn ends depends on the guest's code alone,
  // so the interleaving stays the same from run to run, counted per block or per
  // instruction alike.
  void set_yield_at_pause(bool on) { yield_at_pause_ = on; }
  // The last slice ended (or is to end) early for that.
  bool yielded() const { return yielded_; }
  // Guest memory changed behind the engine (host write): translated code is dropped
  // before the next instruction this vCPU runs.
  void request_code_flush();
  // After a stop the host may resume from (HLT, TDG.VP.VMCALL<HLT>, ReportFatalError):
  // carry on after the instruction. False (nothing changed) after any other stop.
  bool resume();

  uint32_t index() const { return index_; }
  bool stopped() const { return stopped_; }
  uint64_t executed() const { return executed_before_slice_ + slice_executed_; }  // since the last reset
  // Guest code in [begin, end) changed: the cached instruction counts of blocks there
  // are dropped (whoever drops the engine's translations of it calls this). Blocks are
  // known by guest-virtual address; the regions whose pages a reset restores (boot stub,
  // guest ELF) are identity-mapped by the layout.
  void forget_blocks(uint64_t begin, uint64_t end);
  uc_engine* engine() const { return uc_; }
  // TDCALLs the engine stopped at without calling a hook, emulated by the slice loop
  // (docs/engine-quirks.md); a counter for the test that pins the quirk.
  // Exceptions delivered through the guest's IDT (the guest's handler ran).
  uint64_t delivered_exceptions() const { return delivered_exceptions_; }

  // Trace lines and stub coverage for the next runs (nullptr: off). With `insn` off the
  // per-instruction cost is one branch in the budget hook. `t` must outlive the runs.
  void set_trace(const TraceOptions* t);
  // Where this vCPU is now (for budget events): RIP, symbol, instruction.
  std::vector<std::string> describe_position() const;

  // Runs a hook's handler; an exception is kept (the engine stopped) and rethrown by
  // run_slice after uc_emu_start returns, never unwound through Unicorn's C frames.
  template <class F>
  void guarded(F&& f) noexcept {
    if (hook_error_) return;  // already failing: do nothing more until the engine stops
    try {
      f();
    } catch (...) {
      hook_error_ = std::current_exception();
      hook_failed_ = true;
      uc_emu_stop(uc_);
    }
  }

  // Unicorn callbacks (public only so the C trampolines in vcpu.cc can reach them).
  void on_code(uint64_t addr);
  // The block hook's common case, at every block of a counted run: nothing pending, the
  // block under the limit, its facts in the table and no per-instruction hook needed. It
  // counts the block and is done; false leaves the block to on_block. Inline and free of
  // anything that throws, so the hook skips the exception guard's frame too.
  // Every condition that needs the slow path is a bit of gate_, tested at once.
  bool count_known_block(uint64_t addr, uint32_t size) noexcept {
    if (gate_.closed() || slice_executed_ >= slice_limit_) return false;
    const BlockFacts* b = blocks_.find_countable(addr, size);
    if (!b) return false;
    running_block_ = {addr, size};
    count_block(*b);
    return true;
  }
  void on_block(uint64_t addr, uint32_t size);
  void on_block_translated(uint64_t addr, uint32_t size);
  void on_port_block_code(uint64_t addr);
  bool on_insn_invalid();
  void on_port_io(bool out, uint32_t port, int size, uint32_t value);
  // False for the #UD of an instruction on_insn_invalid already handled (a TDCALL): QEMU
  // records only contributory exceptions, #PF and #DF for its escalation, never a #UD,
  // so there is nothing to clear and the context save the clear costs is skipped.
  bool on_interrupt(uint32_t intno);
  // After the interrupt hook took an exception: tdsim delivers it, so QEMU must not
  // count it as one still in flight (exception_record.h).
  void on_exception_taken() { exception_record_->clear(); }
  void on_tdcall(uint64_t addr);
  bool on_cpuid();
  // Before the instruction at `addr` runs: an RDMSR/WRMSR the TDX module makes a #VE or
  // #GP, or an instruction its dispatcher makes a #VE or #UD (tdx/td_instructions.h), is
  // recorded and the engine stopped (true); anything else runs (false).
  bool intercept_td_instruction(uint64_t addr);
  void on_mem_invalid(uc_mem_type type, uint64_t addr, int size);
  void on_stub_code(uint64_t addr);
  void on_guest_entry(uint64_t addr);
  void on_mem_access(uc_mem_type type, uint64_t addr, int size);

 private:
  // The conditions of count_known_block's slow path; declared before the flags below,
  // which are its bits.
  BlockHookGate gate_;
  void emit(const Event& e);
  void stop_with(const Event& e, std::optional<uint64_t> resume_rip = std::nullopt);
  void flush_code_if_requested();
  bool at_tdcall(uint64_t addr) const;
  bool ud_consumed_ = false;
  std::exception_ptr hook_error_;
  BlockHookGate::Flag hook_failed_{gate_, BlockHookGate::kHookError};  // hook_error_ is set
  uint64_t delivered_exceptions_ = 0;
  // Delivers `vector` through the guest's IDT; a shutdown ends the vCPU with a
  // FaultEvent whose detail starts with `what`.
  void raise_exception(int vector, const std::string& what);
  // An exception delivered up to the far jump that loads the handler's CS.
  struct FarPending {
    FarTarget to;
    uint64_t rip;  // of the faulting instruction
    int vector;
    std::optional<uint32_t> error_code;
    std::string chain;
  };
  std::optional<FarPending> far_pending_;
  BlockHookGate::Flag in_far_jump_{gate_, BlockHookGate::kFarJump};  // hooks let tdsim's own far jump through untouched
  std::optional<uint32_t> far_jump_fault_;
  void complete_far_delivery();
  // A port-I/O instruction's #VE, delivered once the engine has stopped after it.
  // kCompleted: an MSR exit the TDX module completed itself (td_msr_virtual.h): RIP, RAX
  // and RDX take the values below and nothing is delivered.
  static constexpr int kInjectVe = 20, kInjectGp = 13, kInjectUd = 6, kCompleted = -1;
  struct PendingVe {
    tdx::VeInfo info;
    uint64_t rip, rax;  // as before the instruction
    std::string what;
    std::string cause;  // why the module raises #VE for it
    // What the module does instead of a #VE: #GP(0) (an MSR of the #GP class, td_msr.h)
    // or #UD (an instruction its dispatcher refuses, td_instructions.h).
    int inject = kInjectVe;
    std::optional<uint64_t> rdx;  // MSR exits: RDX to put back (a completed RDMSR's high half)
  };
  std::optional<PendingVe> ve_pending_;
  // Raises the pending #VE (or #GP) through the guest's IDT, far transfer included.
  void complete_ve();
  // After UC_ERR_*_UNMAPPED: a data access to the TD's shared MMIO window becomes a
  // pending #VE (true; ept_violation.cc); anything else stays a fault (false).
  bool shared_gpa_ve();
  // Private pages the TD has not accepted are fenced (UC_PROT_NONE) on this engine, so
  // that the first touch faults (tdx::TdxModule::pending_access); pages accepted since
  // are opened a run at a time when touched (ept_violation.cc).
  void fence_pending_pages();
  // After UC_ERR_*_PROT on a fenced page: a pending page gives a pending #VE, or stops
  // the vCPU where KVM would kill the VM; an accepted one is opened and the instruction
  // runs again. False: not a fenced page, the fault stands.
  bool fenced_page_fault();
  // The page whose accepted run fenced_page_fault opened last, and the RIP it restarted:
  // the same fault again means opening was not the answer (it stands; no endless retry).
  std::pair<uint64_t, uint64_t> reopened_{~0ull, ~0ull};
  // The instruction of the running block that made the failed access at `gla`.
  std::optional<uint64_t> faulting_instruction(uint64_t gla, bool write) const;
  // After a HLT at `hlt_rip` ended the run: the TDX module's #VE, pending when the
  // guest's IDT has a #VE gate, else the TD's shutdown (the vCPU stops; hlt_ve.cc).
  void hlt_ve(uint64_t hlt_rip);
  bool stop_after_event_ = false;
  bool deferred_ = false;  // the engine stopped for a deferred TDCALL
  FoldedSharedLeaves* folded_leaves_ = nullptr;  // folding on #PF when set
  std::unique_ptr<diag::ModuleTracker> modules_;
  BlockHookGate::Flag tracking_modules_{gate_, BlockHookGate::kModules};  // modules_ is set
  void track_module(uint64_t addr);
  uint64_t shared_bit_folds_ = 0;
  bool fold_shared_bit_for_fault();
  BlockHookGate::Flag pause_requested_{gate_, BlockHookGate::kPause};
  bool paused_ = false, event_pending_ = false;
  bool code_flush_pending_ = false;
  std::optional<uint64_t> resume_rip_;
  void report_engine_error(uc_err err, uint64_t rip);
  uint64_t rip() const;

  // What the block hook needs of a translation block, decoded once per block address.
  // Inline: the kept facts are the block hook's every call, the decoding its rare one.
  const BlockFacts& block_facts(uint64_t addr, uint32_t size) {
    if (const BlockFacts* kept = blocks_.find(addr, size)) return *kept;
    return decode_block_facts(addr, size);
  }
  const BlockFacts& decode_block_facts(uint64_t addr, uint32_t size);
  // Ends the slice once `executed` instructions of it have run (a spin-wait's turn).
  void yield_after(uint64_t executed) {
    if (executed >= slice_limit_) return;  // the slice ends there anyway
    slice_limit_ = executed;
    yielded_ = true;
  }
  void count_block(const BlockFacts& b) noexcept {
    slice_executed_ += b.icount;
    last_addr_ = b.last_insn;
  }
  void update_accounting();
  // With the block hook gone, the engine's new blocks are looked at as they are
  // translated (UC_HOOK_EDGE_GENERATED), so port I/O still gets its hook.
  void set_block_counting(bool on);
  // A block holding port I/O seen without its per-instruction hook: stop before it runs.
  void stop_for_port_block(uint64_t addr, uint32_t size);
  bool stop_wanted() const;
  // The watchdog's cancel or a request_stop() (consumed), seen with the engine out.
  std::optional<SliceEnd> stop_from_outside(const std::atomic<bool>& cancel);
  void hook_port_block(uint64_t addr, uint32_t size);
  BlockFactsCache blocks_;
  BlockFacts unreadable_block_{};
  std::vector<uint8_t> block_bytes_;
  // Blocks with port I/O get a ranged per-instruction hook, so the #VE stops before the
  // next instruction (a stop requested from an instruction hook takes effect only at the
  // next block otherwise, and RIP is not synchronised inside such a hook).
  std::set<uint64_t> port_blocks_;
  std::vector<std::pair<uint64_t, uint32_t>> port_block_requests_;
  std::optional<uint64_t> block_stop_rip_;  // the block the block hook stopped before
  // The block the engine entered last (start, size): RIP is not synchronised when an
  // access inside it fails, so ept_violation.cc looks for the instruction there.
  std::pair<uint64_t, uint32_t> running_block_{};
  // The block hook is installed (else the edge hook).
  BlockHookGate::Flag counting_{gate_, BlockHookGate::kNotCounting, true};
  uc_hook block_hook_ = 0;
  uc_hook edge_hook_ = 0;
  uc_hook entry_block_hook_ = 0;  // without counting, before the engine's first block
  bool ran_ = false;              // the engine ran a block: Unicorn reports later ones as translated
  const std::atomic<bool>* cancel_ = nullptr;  // of the running slice
  std::atomic<bool> stop_requested_{false};
  bool exact_requested_ = false;
  bool yield_at_pause_ = false;
  bool yielded_ = false;
  BlockHookGate::Flag exact_{gate_, BlockHookGate::kExact};  // the per-instruction hook is installed and counts
  uc_hook insn_hook_ = 0;  // that hook, while exact_

  uint32_t index_;
  tdx::TdxModule& tdx_;
  const TdImage& image_;
  GuestMemory& mem_;
  std::unique_ptr<StubMonitor> stub_;  // CR checks, boot trace, coverage over the stub page
  const TraceOptions* trace_ = nullptr;
  bool trace_insn_ = false;
  bool entry_hooked_ = false;
  void trace_insn(uint64_t addr);
  uc_engine* uc_ = nullptr;
  uc_context* initial_ = nullptr;
  std::unique_ptr<ExceptionRecord> exception_record_;  // freed before uc_ is closed

  // Per-slice state, touched by the callbacks.
  const EventSink* sink_ = nullptr;
  // executed() is the two counts' sum: the hooks add to the slice's count alone, one
  // store per block instead of two.
  uint64_t slice_limit_ = 0, slice_executed_ = 0, executed_before_slice_ = 0;
  uint64_t last_addr_ = ~0ull;
  BlockHookGate::Flag exhausted_{gate_, BlockHookGate::kExhausted};
  bool stopped_ = false;
  const std::set<uint64_t>* breakpoints_ = nullptr;
  bool at_breakpoint_ = false;  // exhausted_ was set by a breakpoint, not the budget
  const std::vector<Watch>* watchpoints_ = nullptr;
  uc_hook watch_hook_ = 0;
  bool watch_pending_ = false;  // an instruction hit a watchpoint: stop before the next
  bool at_watchpoint_ = false;
  Watch watch_hit_{};
  std::function<void(const std::string&)> tdcall_observer_;
  // Filled by the INSN_INVALID / MEM hooks for the error uc_emu_start returns next.
  std::string insn_invalid_detail_;
  std::string mem_fault_detail_;
  uc_mem_type mem_fault_type_ = UC_MEM_READ_UNMAPPED;
  uint64_t mem_fault_addr_ = 0;
  bool has_mem_fault_ = false;
};

}  // namespace tdsim::sim
