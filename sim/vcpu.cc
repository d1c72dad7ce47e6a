#include "vcpu.h"


#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/shared_bit_fold.h"
#include "engine.h"
#include "exception_delivery.h"
#include "diag/disasm.h"
#include "diag/x86_decode.h"
#include "far_transfer.h"
#include "fault_capture.h"
#include "guest_virtual.h"
#include "reset_state.h"
#include "tdsim/abi/tdx.h"
#include "tdx/tdcall_format.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {

// uc_emu_start's `until`: ignored, since engines stop at exit addresses (none are set,
// engine.cc); ~0 says so should that ever change.
constexpr uint64_t kNoUntil = ~0ull;
constexpr uint8_t kHltOpcode = 0xf4;

// Unicorn calls these from C frames: no exception may unwind through them. Each one runs
// its handler under Vcpu::guarded, which keeps the exception, stops the engine and lets
// run_slice rethrow it once uc_emu_start has returned.
void code_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_code(addr); });
}
// The block hook's slow path, out of line: the fast path in block_cb then saves no
// registers and reaches this one by a tail jump.
[[gnu::noinline]] void block_slow_cb(uint64_t addr, uint32_t size, Vcpu* v) {
  v->guarded([&] { v->on_block(addr, size); });
}
void block_cb(uc_engine*, uint64_t addr, uint32_t size, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  if (v->count_known_block(addr, size)) return;
  block_slow_cb(addr, size, v);
}
void edge_cb(uc_engine*, uc_tb* cur, uc_tb*, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_block_translated(cur->pc, cur->size); });
}
void port_block_code_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_port_block_code(addr); });
}
void stub_code_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_stub_code(addr); });
}
void intr_cb(uc_engine*, uint32_t intno, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] {
    if (v->on_interrupt(intno)) v->on_exception_taken();
  });
}
bool insn_invalid_cb(uc_engine*, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  bool handled = true;  // an exception inside counts as handled: the engine is stopped
  v->guarded([&] { handled = v->on_insn_invalid(); });
  return handled;
}
int cpuid_cb(uc_engine*, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  bool handled = false;
  v->guarded([&] { handled = v->on_cpuid(); });
  return handled ? 1 : 0;
}
uint32_t in_cb(uc_engine* uc, uint32_t port, int size, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_port_io(false, port, size, 0); });
  // The IN does not happen (a #VE, or the vCPU stops): hand back what the register holds,
  // and run_slice restores all of RAX before the #VE is delivered.
  uint64_t rax = 0;
  uc_reg_read(uc, UC_X86_REG_RAX, &rax);
  return static_cast<uint32_t>(rax);
}
void out_cb(uc_engine*, uint32_t port, int size, uint32_t value, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_port_io(true, port, size, value); });
}
bool mem_invalid_cb(uc_engine*, uc_mem_type type, uint64_t addr, int size, int64_t, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_mem_invalid(type, addr, size); });
  return false;  // not handled: uc_emu_start returns the matching UC_ERR_*
}

void mem_access_cb(uc_engine*, uc_mem_type type, uint64_t addr, int size, int64_t, void* self) {
  auto* v = static_cast<Vcpu*>(self);
  v->guarded([&] { v->on_mem_access(type, addr, size); });
}

const char* mem_access_name(uc_mem_type t) {
  switch (t) {
    case UC_MEM_READ_UNMAPPED: return "read of unmapped GPA";
    case UC_MEM_WRITE_UNMAPPED: return "write to unmapped GPA";
    case UC_MEM_FETCH_UNMAPPED: return "instruction fetch from unmapped GPA";
    case UC_MEM_READ_PROT: return "read of protected memory";
    case UC_MEM_WRITE_PROT: return "write to protected memory";
    case UC_MEM_FETCH_PROT: return "fetch from non-executable memory";
    default: return "invalid memory access";
  }
}

// GPRs the TDCALL ABI reads, in TdcallRegs order.
constexpr int kTdcallRegIds[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                 UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,
                                 UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13,
                                 UC_X86_REG_R14, UC_X86_REG_R15};

}  // namespace

Vcpu::Vcpu(uint32_t index, const TdImage& image, GuestMemory& mem, tdx::TdxModule& tdx)
    : index_(index), tdx_(tdx), image_(image), mem_(mem) {
  uc_ = open_engine(UC_MODE_64);
  try {
    exception_record_ = std::make_unique<ExceptionRecord>(uc_);
    // Shared regions too, at their untagged GPA: the page tables' S-bit was folded out.
    std::vector<const GuestMemory::Block*> all;
    for (const GuestMemory::Block& b : mem.blocks()) all.push_back(&b);
    map_blocks(std::move(all));
    uc_hook h;
    uc_check(uc_hook_add(uc_, &block_hook_, UC_HOOK_BLOCK, reinterpret_cast<void*>(block_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_BLOCK, instruction accounting)");
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN_INVALID, reinterpret_cast<void*>(insn_invalid_cb),
                         this, 1, 0),
             "uc_hook_add(UC_HOOK_INSN_INVALID)");
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(intr_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_INTR)");
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_MEM_INVALID, reinterpret_cast<void*>(mem_invalid_cb),
                         this, 1, 0),
             "uc_hook_add(UC_HOOK_MEM_INVALID)");
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(cpuid_cb), this, 1, 0,
                         UC_X86_INS_CPUID),
             "uc_hook_add(UC_HOOK_INSN, UC_X86_INS_CPUID)");
    // Port I/O has no device behind it in a TD (it is a #VE there): like the KVM
    // backend's KVM_EXIT_IO, it ends the vCPU instead of silently doing nothing.
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(in_cb), this, 1, 0, UC_X86_INS_IN),
             "uc_hook_add(UC_HOOK_INSN, UC_X86_INS_IN)");
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(out_cb), this, 1, 0, UC_X86_INS_OUT),
             "uc_hook_add(UC_HOOK_INSN, UC_X86_INS_OUT)");
    // The stub's CR writes get the checks Unicorn skips (stub_cr_checks.h). Ranged over
    // the stub page only: the stub runs once per boot, code elsewhere pays nothing.
    stub_ = std::make_unique<StubMonitor>(uc_, index, image, mem);
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(stub_code_cb), this,
                         stub_->begin(), stub_->end()),
             "uc_hook_add(UC_HOOK_CODE, boot stub range)");
    fence_pending_pages();
    load_td_reset_state(uc_, image, index);
    uc_check(uc_context_alloc(uc_, &initial_), "uc_context_alloc(initial vCPU state)");
    uc_check(uc_context_save(uc_, initial_), "uc_context_save(initial vCPU state)");
  } catch (...) {
    if (initial_) uc_context_free(initial_);
    exception_record_.reset();
    uc_close(uc_);
    throw;
  }
}

void Vcpu::map_block(const GuestMemory::Block& b) {
  const std::string call =
      fmt::format("uc_mem_map_ptr(region '{}' gpa {:#x} size {:#x})", b.region->name, b.gpa, b.size);
  uc_check(uc_mem_map_ptr(uc_, b.gpa, b.size, UC_PROT_ALL, b.host), call.c_str());
}

void Vcpu::map_blocks(std::vector<const GuestMemory::Block*> bs) {
  // Unicorn rebuilds its memory map for every mapping, at a cost that grows with their
  // number, and each vCPU's stack is a region of low RAM: blocks that follow each other
  // in GPA and in the host (GuestMemory lays such runs out that way) are one mapping.
  std::sort(bs.begin(), bs.end(), [](const auto* a, const auto* b) { return a->gpa < b->gpa; });
  for (size_t i = 0; i < bs.size();) {
    size_t j = i + 1;
    uint64_t size = bs[i]->size;
    while (j < bs.size() && bs[j]->gpa == bs[i]->gpa + size && bs[j]->host == bs[i]->host + size) size += bs[j++]->size;
    const std::string call = fmt::format("uc_mem_map_ptr(region '{}'{} gpa {:#x} size {:#x})", bs[i]->region->name,
                                         j - i > 1 ? fmt::format(" and {} after it", j - i - 1) : "", bs[i]->gpa, size);
    uc_check(uc_mem_map_ptr(uc_, bs[i]->gpa, size, UC_PROT_ALL, bs[i]->host), call.c_str());
    i = j;
  }
}

void Vcpu::remap(uint64_t gpa, uint64_t size) {
  uc_mem_region* regions = nullptr;
  uint32_t n = 0;
  uc_check(uc_mem_regions(uc_, &regions, &n), "uc_mem_regions");
  std::vector<std::pair<uint64_t, uint64_t>> cut;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t b = std::max(regions[i].begin, gpa), e = std::min(regions[i].end + 1, gpa + size);
    if (b < e) cut.emplace_back(b, e);
  }
  uc_free(regions);
  for (auto [b, e] : cut) {
    const std::string call = fmt::format("uc_mem_unmap(gpa {:#x} size {:#x})", b, e - b);
    uc_check(uc_mem_unmap(uc_, b, e - b), call.c_str());
  }
  std::vector<const GuestMemory::Block*> inside;
  for (const GuestMemory::Block& b : mem_.blocks())
    if (b.gpa >= gpa && b.gpa + b.size <= gpa + size) inside.push_back(&b);
  map_blocks(std::move(inside));
  uc_check(uc_ctl_flush_tlb(uc_), "uc_ctl_flush_tlb (guest memory remapped)");
  request_code_flush();
}

Vcpu::~Vcpu() {
  if (initial_) uc_context_free(initial_);
  exception_record_.reset();
  close_engine(uc_);
}

void Vcpu::reset() {
  uc_check(uc_context_restore(uc_, initial_), "uc_context_restore(initial vCPU state)");
  // The context is a plain copy of the CPU state; a CR3 write makes the engine flush the
  // TLB it filled during the previous run.
  uint64_t cr3 = 0;
  uc_check(uc_reg_write(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_write(CR3) on reset");
  stopped_ = exhausted_ = false;
  pause_requested_ = paused_ = event_pending_ = false;
  watch_pending_ = false;
  resume_rip_.reset();
  far_pending_.reset();
  ve_pending_.reset();
  executed_before_slice_ = slice_executed_ = 0;
  last_addr_ = ~0ull;
  stub_->reset();
  fence_pending_pages();  // the TD's unaccepted memory is pending again
  if (modules_) modules_ = std::make_unique<diag::ModuleTracker>();  // a new boot
}

bool Vcpu::at_tdcall(uint64_t addr) const {
  uint8_t insn[4] = {};
  return read_gva(uc_, mem_, addr, insn, sizeof insn, diag::Access::kExec) &&
         std::memcmp(insn, abi::kTdcallBytes, sizeof insn) == 0;
}

uint64_t Vcpu::rip() const {
  uint64_t v = 0;
  uc_reg_read(uc_, UC_X86_REG_RIP, &v);
  return v;
}

void Vcpu::emit(const Event& e) {
  if (sink_) (*sink_)(e);
  // The host API steps one event at a time: stop before the next instruction.
  if (stop_after_event_) pause_requested_ = event_pending_ = true;
}

void Vcpu::request_code_flush() {
  code_flush_pending_ = true;
  pause_requested_ = true;  // if this engine is running, it stops at the next instruction
}

void Vcpu::flush_code_if_requested() {
  if (!code_flush_pending_) return;
  code_flush_pending_ = false;
  uc_check(uc_ctl_flush_tb(uc_), "uc_ctl_flush_tb (guest memory written by the host)");
  blocks_.clear();
}

bool Vcpu::resume() {
  if (!stopped_ || !resume_rip_) return false;
  uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &*resume_rip_), "uc_reg_write(RIP) on resume");
  resume_rip_.reset();
  stopped_ = false;
  return true;
}

void Vcpu::stop_with(const Event& e, std::optional<uint64_t> resume_rip) {
  resume_rip_ = resume_rip;
  if (const auto* f = std::get_if<FaultEvent>(&e)) {
    FaultEvent explained = *f;
    explain_into(explained, uc_, image_, mem_);
    emit(explained);
  } else {
    emit(e);
  }
  stopped_ = true;
  uc_emu_stop(uc_);
}

Vcpu::SliceEnd Vcpu::run_slice(uint64_t max_insns, const EventSink& sink,
                               const std::atomic<bool>& cancel) {
  sink_ = &sink;
  cancel_ = &cancel;
  slice_limit_ = max_insns;
  executed_before_slice_ += std::exchange(slice_executed_, 0);
  exhausted_ = at_breakpoint_ = at_watchpoint_ = yielded_ = false;
  event_pending_ = false;
  // Slices exist to count; with no limit asked, the block hook goes unless the host steps
  // on events, firmware progress is tracked per block, or the image has a shared MMIO
  // window (its #VE finds the instruction in the block the hook recorded last,
  // ept_violation.cc).
  set_block_counting(max_insns != UINT64_MAX || stop_after_event_ || modules_ || exact_ ||
                     image_.shared_mmio_size != 0);
  if (!counting_) last_addr_ = ~0ull;  // not known without a count: no stale position
  while (!stopped_) {
    if (pause_requested_) {
      // Set by an event the host steps on, or by a host write into guest memory: both
      // are handled between instructions, with the engine stopped.
      pause_requested_ = false;
      flush_code_if_requested();
      if (event_pending_) {
        event_pending_ = false;
        sink_ = nullptr;
        return SliceEnd::kEvent;
      }
    }
    // A stop that came between two starts (or that a hook's RIP write made the engine
    // drop) is honoured here: nothing else would end a slice without a count.
    if (const std::optional<SliceEnd> end = stop_from_outside(cancel)) {
      sink_ = nullptr;
      return *end;
    }
    mem_fault_detail_.clear();
    insn_invalid_detail_.clear();
    has_mem_fault_ = false;
    // Nothing QEMU recorded before this start may escalate the guest's next exception
    // (exception_record.h).
    exception_record_->clear();
    const uc_err err = uc_emu_start(uc_, rip(), kNoUntil, 0, 0);
    ran_ = true;
    if (block_stop_rip_) {
      // The block hook stopped the engine before the block ran, but RIP still holds the
      // last value the engine wrote back, which lags behind blocks chained to each
      // other: the block's address is where this vCPU stands.
      uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &*block_stop_rip_), "uc_reg_write(RIP) after a block stop");
      block_stop_rip_.reset();
    }
    if (hook_error_) {
      // A handler failed inside a hook (e.g. the event sink threw): the vCPU cannot go
      // on; the exception reaches the caller as if the hook had been a plain call.
      stopped_ = true;
      sink_ = nullptr;
      hook_failed_ = false;
      std::rethrow_exception(std::exchange(hook_error_, nullptr));
    }
    if (stopped_) break;
    if (std::exchange(deferred_, false)) {
      sink_ = nullptr;
      return SliceEnd::kDeferred;
    }
    if (far_pending_) {
      complete_far_delivery();
      if (stopped_) break;
      continue;
    }
    if (ve_pending_) {
      paused_ = exhausted_ = false;
      complete_ve();
      if (stopped_) break;
      continue;
    }
    if (err != UC_ERR_OK && has_mem_fault_ && shared_gpa_ve()) {
      complete_ve();
      if (stopped_) break;
      continue;
    }
    if (err != UC_ERR_OK && has_mem_fault_ && fenced_page_fault()) {
      if (ve_pending_) complete_ve();
      if (stopped_) break;
      continue;
    }
    if (err != UC_ERR_OK) {
      report_engine_error(err, rip());
      break;
    }
    if (paused_) {
      paused_ = exhausted_ = false;
      for (const auto& [addr, size] : std::exchange(port_block_requests_, {})) hook_port_block(addr, size);
      continue;
    }
    if (exhausted_)
      return at_watchpoint_ ? SliceEnd::kWatchpoint : at_breakpoint_ ? SliceEnd::kBreakpoint : SliceEnd::kExhausted;
    if (const std::optional<SliceEnd> end = stop_from_outside(cancel)) {
      sink_ = nullptr;
      return *end;
    }
    const uint64_t r = rip();
    // The only other way a slice ends early is HLT: the last instruction counted was a
    // one-byte F4 just before RIP. Without a count every other stop has its flag, so
    // an F4 just before RIP is the HLT.
    const uint64_t last = counting_ ? last_addr_ : r - 1;
    uint8_t op = 0;
    if (last + 1 == r && read_gva(uc_, mem_, last, &op, 1, diag::Access::kExec) && op == kHltOpcode) {
      hlt_ve(last);
      if (!ve_pending_) break;  // no #VE gate: the TD shut down
      complete_ve();
      if (stopped_) break;
      continue;
    }
    stop_with(FaultEvent{index_, r, -1, 0, false,
                         fmt::format("engine stopped at rip {:#x} without a reported cause "
                                     "(last instruction at {:#x})",
                                     r, last_addr_)});
    break;
  }
  sink_ = nullptr;
  return SliceEnd::kStopped;
}

void Vcpu::report_engine_error(uc_err err, uint64_t r) {
  FaultEvent f{index_, r, -1, 0, false, {}};
  switch (err) {
    case UC_ERR_INSN_INVALID:
      f.vector = 6;
      f.detail = insn_invalid_detail_.empty()
                     ? fmt::format("UC_ERR_INSN_INVALID: invalid opcode (#UD) at rip {:#x}", r)
                     : insn_invalid_detail_;
      break;
    case UC_ERR_READ_UNMAPPED:
    case UC_ERR_WRITE_UNMAPPED:
    case UC_ERR_FETCH_UNMAPPED:
    case UC_ERR_READ_PROT:
    case UC_ERR_WRITE_PROT:
    case UC_ERR_FETCH_PROT:
      // Unicorn 2.0.1 looks the linear address up in its memory map before the page walk:
      // with the layout's identity map that is the GPA, and it has no memory behind it.
      f.detail = fmt::format("{}: {} (rip {:#x}); no guest memory backs it (a TD would take "
                             "an EPT violation)",
                             uc_err_name(err),
                             mem_fault_detail_.empty() ? "invalid memory access" : mem_fault_detail_, r);
      break;
    default:
      f.detail = fmt::format("{}: {} at rip {:#x}", uc_err_name(err), uc_strerror(err), r);
      break;
  }
  if (has_mem_fault_) refine_unmapped_access(f, uc_, image_, mem_, mem_fault_type_, mem_fault_addr_);
  apply_idt_delivery(f, uc_, image_, mem_);
  stop_with(f);
}

void Vcpu::on_code(uint64_t addr) {
  if (in_far_jump_) return;  // not a guest instruction: tdsim's own far jump
  if (pause_requested_) {
    // Stop before `addr` runs; run_slice handles the request and carries on.
    if (!exhausted_) {
      exhausted_ = paused_ = true;
      uc_emu_stop(uc_);
    }
    return;
  }
  if (watch_pending_) {
    // The previous instruction touched a watched range: it has completed, as with a
    // data breakpoint on x86 (a trap); stop before this one.
    if (!exhausted_) {
      watch_pending_ = false;
      exhausted_ = at_watchpoint_ = true;
      uc_emu_stop(uc_);
    }
    return;
  }
  const bool breakpoint = breakpoints_ && breakpoints_->count(addr);
  if (slice_executed_ >= slice_limit_ || breakpoint) {
    // Stopping here keeps the instruction at `addr` unexecuted: it is the next slice's.
    // Hooks after this one (TDCALL sites, stub monitor) see exhausted_ and do nothing.
    if (!exhausted_) {
      exhausted_ = true;
      at_breakpoint_ = breakpoint;
      uc_emu_stop(uc_);
    }
    return;
  }
  if (intercept_td_instruction(addr)) return;
  ++slice_executed_;
  last_addr_ = addr;
  if (trace_insn_) trace_insn(addr);
}

void Vcpu::set_module_tracking(bool on) {
  modules_ = on ? std::make_unique<diag::ModuleTracker>() : nullptr;
  tracking_modules_ = on;
}

void Vcpu::track_module(uint64_t addr) {
  if (modules_->inside(addr)) return;
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR0, &cr0), "uc_reg_read(CR0)");
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_read(CR3)");
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR4, &cr4), "uc_reg_read(CR4)");
  // The engine walks folded tables (no shared bit): so does the tracker's view.
  const diag::LinearView view{(cr0 & (1ull << 31)) != 0, cr3, cr0, cr4};
  if (std::optional<std::string> line = modules_->at(mem_, image_, view, addr))
    emit(MilestoneEvent{index_, addr, std::move(*line)});
  // An image loaded where other code ran before: run it from its bytes, not from blocks
  // the engine translated from the old ones (docs/engine-quirks.md). The block hook
  // stops before this block and the slice loop flushes the translations.
  if (modules_->take_new_image()) request_code_flush();
}

bool Vcpu::intercept_td_instruction(uint64_t addr) {
  if (stopped_ || exhausted_ || ve_pending_) return false;
  // Unicorn 2.1 has no RDMSR/WRMSR (nor WBINVD, MWAIT, ...) instruction hook: blocks
  // holding one run with a per-instruction hook (block_facts), which looks at the bytes
  // here.
  uint8_t b[15] = {};
  size_t n = sizeof b;
  while (n && !read_gva(uc_, mem_, addr, b, n, diag::Access::kExec)) --n;
  if (n < 2) return false;
  const bool msr_insn = b[0] == 0x0f && (b[1] == 0x30 || b[1] == 0x32);
  const std::optional<tdx::TdInstruction> t = tdx::td_instruction_at({b, n});
  if (!t && !msr_insn) return false;  // most instructions of such a block: no register read
  uint64_t rax = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_RAX, &rax), "uc_reg_read(RAX) before an intercepted instruction");
  if (t) {
    ve_pending_ = PendingVe{tdx::instruction_ve(*t), addr, rax, t->name,
                            t->ud ? "the TDX module injects #UD for it" : "the TDX module makes it a #VE",
                            t->ud ? kInjectUd : kInjectVe};
    uc_emu_stop(uc_);  // before the instruction runs; run_slice delivers it
    return true;
  }
  const bool write = b[1] == 0x30;
  uint64_t rcx = 0, rdx = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_RCX, &rcx), "uc_reg_read(RCX) before RDMSR/WRMSR");
  uc_check(uc_reg_read(uc_, UC_X86_REG_RDX, &rdx), "uc_reg_read(RDX) before RDMSR/WRMSR");
  const auto msr = static_cast<uint32_t>(rcx);
  uc_x86_msr efer{tdx::kMsrEfer, 0};
  if (write && msr == tdx::kMsrEfer) uc_check(uc_reg_read(uc_, UC_X86_REG_MSR, &efer), "uc_reg_read(EFER) before WRMSR");
  const uint64_t value = (rdx << 32) | static_cast<uint32_t>(rax);
  const tdx::MsrDecision d = tdx_.msr_instruction(index_, msr, write, value, efer.value);
  if (d.access == tdx::MsrAccess::kNative) return false;
  const std::string what = fmt::format("{} MSR {:#x}", write ? "WRMSR" : "RDMSR", msr);
  if (d.access == tdx::MsrAccess::kModule) {
    // The module completed it: a read's EDX:EAX (upper halves cleared, as RDMSR does),
    // RIP after the two-byte instruction.
    ve_pending_ = PendingVe{{}, addr + 2, write ? rax : (d.value & 0xffffffffu), what, d.why, kCompleted,
                            write ? rdx : (d.value >> 32)};
  } else {
    ve_pending_ = PendingVe{tdx::msr_instruction_ve(write), addr, rax, what, d.why,
                            d.access == tdx::MsrAccess::kGp ? kInjectGp : kInjectVe, rdx};
  }
  uc_emu_stop(uc_);  // before the instruction runs; run_slice delivers the #VE
  return true;
}

void Vcpu::on_block(uint64_t addr, uint32_t size) {
  if (modules_ && !in_far_jump_ && !exhausted_) track_module(addr);
  running_block_ = {addr, size};
  if (in_far_jump_ || exhausted_) return;
  if (exact_) {
    // Counted per instruction (on_code), which stops at the limit: a PAUSE block's turn
    // ends after its last instruction, as the block count below ends it.
    if (yield_at_pause_) {
      const BlockFacts& b = block_facts(addr, size);
      if (b.pause) yield_after(slice_executed_ + b.icount);
    }
    return;
  }
  // A stop requested from this block hook takes effect before the block's first
  // instruction: the engine checks for it at every block's entry.
  if (pause_requested_) {
    exhausted_ = paused_ = true;
    block_stop_rip_ = addr;
    uc_emu_stop(uc_);
    return;
  }
  if (slice_executed_ >= slice_limit_) {
    exhausted_ = true;
    block_stop_rip_ = addr;
    uc_emu_stop(uc_);
    return;
  }
  const BlockFacts& b = block_facts(addr, size);
  if (b.port_io && !port_blocks_.count(addr)) {
    stop_for_port_block(addr, size);
    return;
  }
  if (!counting_) return;  // the first block's own hook (set_block_counting)
  count_block(b);
  // The next block finds the slice used up and stops before it runs.
  if (b.pause && yield_at_pause_) yield_after(slice_executed_);
}

void Vcpu::stop_for_port_block(uint64_t addr, uint32_t size) {
  // Retranslated with a per-instruction hook before it runs (run_slice).
  port_block_requests_.emplace_back(addr, size);
  if (exhausted_) return;  // already stopping: the block is hooked before the next start
  exhausted_ = paused_ = true;
  block_stop_rip_ = addr;
  uc_emu_stop(uc_);
}

void Vcpu::on_block_translated(uint64_t addr, uint32_t size) {
  // Called as the engine translates a block, before it runs; a stop from here keeps the
  // block from running (RIP is the block's address).
  if (in_far_jump_ || stopped_ || port_blocks_.count(addr)) return;
  if (block_facts(addr, size).port_io) stop_for_port_block(addr, size);
}

void Vcpu::set_block_counting(bool on) {
  if (on == counting_) return;
  if (on) {
    uc_check(uc_hook_del(uc_, edge_hook_), "uc_hook_del(translated blocks)");
    edge_hook_ = 0;
    if (entry_block_hook_) uc_check(uc_hook_del(uc_, entry_block_hook_), "uc_hook_del(first block)");
    entry_block_hook_ = 0;
    uc_check(uc_hook_add(uc_, &block_hook_, UC_HOOK_BLOCK, reinterpret_cast<void*>(block_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_BLOCK, instruction accounting)");
  } else {
    uc_check(uc_hook_del(uc_, block_hook_), "uc_hook_del(instruction accounting)");
    block_hook_ = 0;
    uc_check(uc_hook_add(uc_, &edge_hook_, UC_HOOK_EDGE_GENERATED, reinterpret_cast<void*>(edge_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_EDGE_GENERATED, blocks as translated)");
    if (!ran_) {
      // Unicorn reports a translated block only once the engine has run one before it:
      // the very first block is looked at by a block hook over its address alone.
      const uint64_t r = rip();
      const std::string call = fmt::format("uc_hook_add(UC_HOOK_BLOCK, first block {:#x})", r);
      uc_check(uc_hook_add(uc_, &entry_block_hook_, UC_HOOK_BLOCK, reinterpret_cast<void*>(block_cb), this, r, r),
               call.c_str());
    }
  }
  counting_ = on;
  // Translated code carries the block hook's call (or lacks it). An engine that has not
  // run yet has nothing to drop, and a flush costs a cold run its code buffer's memset.
  if (ran_) uc_check(uc_ctl_flush_tb(uc_), "uc_ctl_flush_tb (instruction accounting changed)");
}

std::optional<Vcpu::SliceEnd> Vcpu::stop_from_outside(const std::atomic<bool>& cancel) {
  if (cancel.load(std::memory_order_acquire)) return SliceEnd::kCancelled;
  if (stop_requested_.exchange(false, std::memory_order_acq_rel)) return SliceEnd::kExhausted;
  return std::nullopt;
}

bool Vcpu::stop_wanted() const {
  return pause_requested_ || stop_requested_.load(std::memory_order_acquire) ||
         (cancel_ && cancel_->load(std::memory_order_acquire));
}

void Vcpu::request_stop() {
  stop_requested_.store(true, std::memory_order_release);
  uc_emu_stop(uc_);  // a no-op unless the engine is running
}

void Vcpu::on_port_block_code(uint64_t addr) {
  if (exact_ || in_far_jump_) return;  // on_code does it all
  if (pause_requested_ && !exhausted_) {
    exhausted_ = paused_ = true;
    uc_emu_stop(uc_);
    return;
  }
  if (intercept_td_instruction(addr)) return;
  if (counting_) last_addr_ = addr;
}

const BlockFacts& Vcpu::decode_block_facts(uint64_t addr, uint32_t size) {
  BlockFacts f{size, 0, addr, false};
  std::vector<uint8_t>& bytes = block_bytes_;  // reused: a block is looked at once
  bytes.resize(size);
  if (size && read_gva(uc_, mem_, addr, bytes.data(), size, diag::Access::kExec)) {
    const diag::CodeScan scan = diag::scan_code(bytes, addr, diag::code_mode(capture_cpu_state(uc_, image_, mem_)));
    f.icount = scan.count;
    f.last_insn = scan.last;
    // Bytes Capstone cannot decode may hide anything: such a block runs hooked too.
    f.port_io = scan.port_io || scan.may_ve || scan.undecodable;
    f.pause = scan.pause;
  }
  if (f.icount == 0) {
    // Unreadable through the guest's page tables although the engine fetched it (its
    // TLB still holds a mapping the guest has since overwritten): count one instruction
    // and keep nothing, so the block is looked at again next time.
    unreadable_block_ = BlockFacts{size, 1, addr, false};
    return unreadable_block_;
  }
  return blocks_.insert(addr, f);
}

void Vcpu::forget_blocks(uint64_t begin, uint64_t end) {
  blocks_.forget(begin, end);
}

void Vcpu::hook_port_block(uint64_t addr, uint32_t size) {
  uc_hook h;
  const std::string call = fmt::format("uc_hook_add(UC_HOOK_CODE, port I/O block {:#x}+{:#x})", addr, size);
  uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(port_block_code_cb), this, addr,
                       addr + (size ? size - 1 : 0)),
           call.c_str());
  uc_check(uc_ctl_remove_cache(uc_, addr, addr + (size ? size : 1)), "uc_ctl_remove_cache (port I/O block)");
  port_blocks_.insert(addr);
}

void Vcpu::set_breakpoints(const std::set<uint64_t>* bps) {
  breakpoints_ = bps;
  update_accounting();
}

void Vcpu::set_exact_count(bool on) {
  exact_requested_ = on;
  update_accounting();
}

void Vcpu::update_accounting() {
  const bool want = exact_requested_ || trace_insn_ || breakpoints_ || watchpoints_;
  if (want == exact_) return;
  if (want) {
    uc_check(uc_hook_add(uc_, &insn_hook_, UC_HOOK_CODE, reinterpret_cast<void*>(code_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_CODE, exact instruction count)");
  } else {
    uc_check(uc_hook_del(uc_, insn_hook_), "uc_hook_del(exact instruction count)");
    insn_hook_ = 0;
  }
  exact_ = want;
  // Code translated before the change would keep the old instrumentation.
  uc_check(uc_ctl_flush_tb(uc_), "uc_ctl_flush_tb (instruction accounting changed)");
  blocks_.clear();
}

bool Vcpu::on_interrupt(uint32_t intno) {
  if (in_far_jump_) {
    far_jump_fault_ = intno;
    uc_emu_stop(uc_);
    return true;
  }
  if (stopped_) {
    uc_emu_stop(uc_);
    return true;
  }
  if (intno == 6 && ud_consumed_) {
    // The #UD on_insn_invalid already handled (a TDCALL, or a #UD it delivered):
    // Unicorn 2.1 reports it to both hooks.
    ud_consumed_ = false;
    return false;
  }
  if (intno == 14 && folded_leaves_ && fold_shared_bit_for_fault()) return true;  // runs again
  raise_exception(static_cast<int>(intno), {});
  return true;
}

bool Vcpu::fold_shared_bit_for_fault() {
  uint64_t cr2 = 0, cr3 = 0, cr4 = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR2, &cr2), "uc_reg_read(CR2)");
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_read(CR3)");
  uc_check(uc_reg_read(uc_, UC_X86_REG_CR4, &cr4), "uc_reg_read(CR4)");
  constexpr uint64_t kCr4La57 = 1ull << 12;
  const uint64_t n = fold_shared_bit_on_walk(mem_, cr3, cr2, (cr4 & kCr4La57) != 0, image_.shared_bit, folded_leaves_);
  if (n == 0) return false;
  shared_bit_folds_ += n;
  // Writing CR3 flushes the TLB, so the walk is redone with the folded entries.
  uc_check(uc_reg_write(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_write(CR3) after a shared-bit fold");
  return true;
}

void Vcpu::raise_exception(int vector, const std::string& what) {
  const uint64_t r = rip();
  RaisedException ex{vector, std::nullopt};
  if (diag::has_error_code(vector)) {
    // Unicorn does not expose the error code. #PF's is inferred from the page walk of
    // CR2 and the faulting instruction; the others are 0 (selector errors are not
    // modelled: docs/engine-quirks.md).
    FaultEvent probe{index_, r, vector, 0, false, {}};
    if (vector == 14) infer_pf_error_code(probe, uc_, image_, mem_);
    ex.error_code = static_cast<uint32_t>(probe.error_code);
  }
  const Delivery d = deliver_exception(uc_, mem_, ex);
  if (trace_ && trace_->boot && trace_->sink)
    trace_->sink(fmt::format("vcpu {} exception at {:#x}: {}", index_, r, describe_chain(d)));
  if (d.delivered) {
    ++delivered_exceptions_;
    if (d.far) {
      // The handler's CS still has to be loaded: run_slice does it with the engine
      // stopped (far_transfer.h), before the faulting instruction could run again.
      far_pending_ = FarPending{*d.far, r, vector, ex.error_code, describe_chain(d)};
      uc_emu_stop(uc_);
    }
    return;  // the guest's handler runs next, as on hardware
  }
  FaultEvent f{index_, r, vector, ex.error_code.value_or(0), !d.not_modelled,
               fmt::format("{}exception {} at rip {:#x}: {}; {}", what.empty() ? "" : what + "; ",
                           diag::vector_name(vector), r, describe_chain(d), d.why)};
  if (vector == 14) {
    uint64_t cr2 = 0;
    uc_reg_read(uc_, UC_X86_REG_CR2, &cr2);
    f.detail += fmt::format("; CR2 {:#x}", cr2);
  }
  stop_with(f);
}

void Vcpu::complete_far_delivery() {
  const FarPending p = *std::exchange(far_pending_, std::nullopt);
  exception_record_->clear();
  in_far_jump_ = true;
  far_jump_fault_.reset();
  std::string why;
  try {
    why = far_jump(uc_, p.to);
  } catch (...) {
    in_far_jump_ = false;
    throw;
  }
  in_far_jump_ = false;
  if (far_jump_fault_ && why.empty())
    why = fmt::format("loading CS {:#x} raised {}", p.to.selector, diag::vector_name(*far_jump_fault_));
  if (why.empty()) return;  // the handler runs next
  // The frame is on the stack but CS could not be loaded the way the CPU would: stop
  // rather than run the handler with the wrong code size.
  uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &p.rip), "uc_reg_write(RIP) after a failed far jump");
  stop_with(FaultEvent{index_, p.rip, p.vector, p.error_code.value_or(0), false,
                       fmt::format("exception {} at rip {:#x}: {} (not delivered); {}", diag::vector_name(p.vector),
                                   p.rip, p.chain, why)});
}

void Vcpu::on_port_io(bool out, uint32_t port, int size, uint32_t value) {
  if (stopped_ || exhausted_ || ve_pending_) return;
  const uint64_t r = rip();
  // The TDX module turns port I/O into a #VE (docs/tdx-module-standin.md). The hook runs
  // inside the instruction, so the #VE is delivered once the engine stops before the next
  // one (run_slice), with RAX and RIP as they were before the IN or OUT.
  uint8_t b[2] = {};
  read_gva(uc_, mem_, r, b, 2, diag::Access::kExec);
  const bool prefix = b[0] == 0x66;
  const uint8_t op = prefix ? b[1] : b[0];
  const bool immediate = op >= 0xe4 && op <= 0xe7;
  const uint32_t len = (immediate ? 2u : 1u) + (prefix ? 1u : 0u);
  uint64_t rax = 0;
  uc_reg_read(uc_, UC_X86_REG_RAX, &rax);
  ve_pending_ = PendingVe{tdx::io_instruction_ve(!out, static_cast<uint16_t>(port), static_cast<uint32_t>(size),
                                                 immediate, len),
                          r, rax,
                          fmt::format("{} port {:#x}, size {}{}", out ? "OUT" : "IN", port, size,
                                      out ? fmt::format(", value {:#x}",
                                                        mask_to_access_size(value, static_cast<uint64_t>(size)))
                                          : ""),
                          "port I/O in a TD"};
  pause_requested_ = true;  // on_code stops the engine before the next instruction
}

void Vcpu::complete_ve() {
  const PendingVe p = *std::exchange(ve_pending_, std::nullopt);
  uc_check(uc_reg_write(uc_, UC_X86_REG_RAX, &p.rax), "uc_reg_write(RAX) before a #VE");
  uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &p.rip), "uc_reg_write(RIP) before a #VE");
  if (p.rdx) uc_check(uc_reg_write(uc_, UC_X86_REG_RDX, &*p.rdx), "uc_reg_write(RDX) after an MSR exit");
  if (p.inject == kCompleted) return;  // the module did the instruction: nothing to deliver
  if (p.inject == kInjectGp) {
    raise_exception(13, fmt::format("#GP(0) for {} ({})", p.what, p.cause));
  } else if (p.inject == kInjectUd) {
    raise_exception(6, fmt::format("#UD for {} ({})", p.what, p.cause));
  } else {
    const bool ve = tdx_.raise_ve(index_, p.info) == tdx::TdxModule::VeDelivery::kVe;
    if (trace_ && trace_->tdcall && trace_->sink)
      trace_->sink(fmt::format("vcpu {} #VE at {:#x}: {}{}", index_, p.rip, p.what,
                               ve ? "" : " (earlier #VE information unread: #DF)"));
    raise_exception(ve ? static_cast<int>(abi::kVeVector) : 8,
                    fmt::format("#VE for {} ({}){}", p.what, p.cause,
                                ve ? "" : "; the previous #VE's information was never read (TDG.VP.VEINFO.GET), so #DF"));
  }
  if (far_pending_) complete_far_delivery();  // the gate names another code segment
}

bool Vcpu::on_insn_invalid() {
  const uint64_t r = rip();
  if (!at_tdcall(r)) {
    uint8_t bytes[15] = {};
    size_t n = sizeof bytes;
    while (n && !read_gva(uc_, mem_, r, bytes, n, diag::Access::kExec)) --n;
    insn_invalid_detail_ = fmt::format("UC_ERR_INSN_INVALID: invalid opcode (#UD) at rip {:#x}, bytes {:02x}",
                                       r, fmt::join(bytes, bytes + n, " "));
    // Delivered through the guest's IDT like every other exception.
    raise_exception(6, insn_invalid_detail_);
    ud_consumed_ = true;
    return true;
  }
  // The bytes are read again at every hit, so code the guest rewrote is never taken for
  // a TDCALL (docs/engine-quirks.md).
  on_tdcall(r);
  ud_consumed_ = true;
  return true;
}

void Vcpu::set_watchpoints(const std::vector<Watch>* w) {
  watchpoints_ = w && !w->empty() ? w : nullptr;
  if (watchpoints_ && !watch_hook_) {
    uc_check(uc_hook_add(uc_, &watch_hook_, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
                         reinterpret_cast<void*>(mem_access_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, watchpoints)");
    // Code translated before the hook existed would not call it.
    uc_check(uc_ctl_flush_tb(uc_), "uc_ctl_flush_tb (watchpoints set)");
  } else if (!watchpoints_ && watch_hook_) {
    uc_check(uc_hook_del(uc_, watch_hook_), "uc_hook_del(watchpoints)");
    watch_hook_ = 0;
    uc_check(uc_ctl_flush_tb(uc_), "uc_ctl_flush_tb (watchpoints cleared)");
  }
  if (!watchpoints_) watch_pending_ = false;
  update_accounting();
}

void Vcpu::on_mem_access(uc_mem_type type, uint64_t addr, int size) {
  if (in_far_jump_) return;  // tdsim's own far jump reading the GDT is not a guest access
  if (!watchpoints_ || watch_pending_ || size <= 0) return;
  const bool write = type == UC_MEM_WRITE;
  for (const Watch& w : *watchpoints_) {
    if (w.kind == WatchKind::kWrite && !write) continue;
    if (w.kind == WatchKind::kRead && write) continue;
    // Overlap of [addr, addr+size) and [w.addr, w.addr+w.len), without overflow.
    if (addr <= w.addr + (w.len - 1) && w.addr <= addr + (static_cast<uint64_t>(size) - 1)) {
      watch_pending_ = true;
      watch_hit_ = w;
      return;
    }
  }
}

void Vcpu::on_mem_invalid(uc_mem_type type, uint64_t addr, int size) {
  mem_fault_detail_ = fmt::format("{} {:#x}, {} bytes", mem_access_name(type), addr, size);
  mem_fault_type_ = type;
  mem_fault_addr_ = addr;
  has_mem_fault_ = true;
}

void Vcpu::on_tdcall(uint64_t addr) {
  // A budget stop at this address leaves the TDCALL to the next slice.
  if (stopped_ || exhausted_) return;
  ucall::TdcallRegs in;
  uint64_t* fields[] = {&in.rax, &in.rcx, &in.rdx, &in.rbx, &in.rsi, &in.rdi, &in.r8,
                        &in.r9,  &in.r10, &in.r11, &in.r12, &in.r13, &in.r14, &in.r15};
  uc_reg_read_batch(uc_, const_cast<int*>(kTdcallRegIds), reinterpret_cast<void**>(fields),
                    static_cast<int>(std::size(kTdcallRegIds)));

  const tdx::TdcallResult res = tdx_.tdcall(index_, addr, in);
  if (res.deferred) {
    // Not writing RIP (as for a stop below): the TDCALL runs again once answered.
    deferred_ = true;
    uc_emu_stop(uc_);
    return;
  }
  if (trace_ && trace_->tdcall && trace_->sink) trace_->sink(tdx::format_tdcall(index_, addr, in, res.regs, res.event));
  if (tdcall_observer_) tdcall_observer_(tdx::format_tdcall(index_, addr, in, res.regs, res.event));
  if (res.stop) {
    // Not writing RIP: a PC write makes Unicorn continue internally and would swallow
    // the stop request. A host that resumes the vCPU (after HLT or ReportFatalError)
    // continues after the TDCALL.
    const bool resumable = !std::holds_alternative<UcallEvent>(*res.event);  // HLT, ReportFatalError
    stop_with(*res.event, resumable ? std::optional<uint64_t>(addr + 4) : std::nullopt);
    return;
  }
  // The TDCALL output registers that changed (TDG.VP.INFO sets RCX..R11, VMCALL<CPUID>
  // R12..R15; most calls only RAX, R10, R11); the module returns the others unchanged,
  // and each register write is a call into the engine.
  ucall::TdcallRegs o = res.regs;
  uint64_t* outs[] = {&o.rax, &o.rcx, &o.rdx, &o.rbx, &o.rsi, &o.rdi, &o.r8,
                      &o.r9,  &o.r10, &o.r11, &o.r12, &o.r13, &o.r14, &o.r15};
  int ids[std::size(kTdcallRegIds)];
  void* vals[std::size(kTdcallRegIds)];
  int changed = 0;
  for (size_t i = 0; i < std::size(kTdcallRegIds); ++i) {
    if (*outs[i] == *fields[i]) continue;
    ids[changed] = kTdcallRegIds[i];
    vals[changed++] = outs[i];
  }
  if (changed) uc_check(uc_reg_write_batch(uc_, ids, vals, changed), "uc_reg_write_batch(TDCALL outputs)");
  if (res.event) emit(*res.event);
  // TDCALL is trap-like: the guest resumes after it. Unicorn leaves the current block on
  // a PC write from a hook and carries on without returning from uc_emu_start.
  const uint64_t next = addr + 4;
  if (!counting_ && stop_wanted()) {
    // No block hook will see the request, and a PC write would make the engine carry on
    // past any stop: stop here and set RIP once the engine is out (run_slice).
    exhausted_ = paused_ = true;
    block_stop_rip_ = next;
    uc_emu_stop(uc_);
    return;
  }
  uc_reg_write(uc_, UC_X86_REG_RIP, &next);
}

bool Vcpu::on_cpuid() {
  uint64_t leaf = 0, subleaf = 0, rax = 0, cr4 = 0;
  uc_reg_read(uc_, UC_X86_REG_RAX, &leaf);
  uc_reg_read(uc_, UC_X86_REG_RCX, &subleaf);
  uc_reg_read(uc_, UC_X86_REG_CR4, &cr4);
  rax = leaf;
  // The TDX module answers every leaf (tdx/td_cpuid.h). Unicorn's API cannot read XCR0:
  // the XSAVE size in CPUID 0xd EBX is for x87 | SSE (docs/engine-quirks.md).
  tdx::CpuidVcpuState st;
  st.vcpu_index = index_;
  st.cr4 = cr4;
  st.xcr0 = tdx::kXfamX87Sse;
  st.long_mode = capture_code_mode(uc_, image_, mem_) == diag::CpuMode::k64;
  const tdx::InstructionCpuid c =
      tdx_.instruction_cpuid(static_cast<uint32_t>(leaf), static_cast<uint32_t>(subleaf), st);
  if (!c.value) {
    // Already stopping (an earlier #VE, a stop): that one wins and RIP goes back before
    // this CPUID, so nothing of it is kept.
    if (stopped_ || ve_pending_) return true;
    // Delivered once the engine stops before the next instruction (run_slice), with RIP
    // back on the CPUID; the block runs hooked per instruction (block_facts).
    ve_pending_ = PendingVe{c.ve, rip(), rax,
                            fmt::format("CPUID leaf {:#x} sub-leaf {:#x}", leaf, subleaf), c.why};
    pause_requested_ = true;
    return true;
  }
  const tdx::CpuidValue& v = *c.value;
  int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX};
  uint64_t out[] = {v.eax, v.ebx, v.ecx, v.edx};
  void* vals[] = {&out[0], &out[1], &out[2], &out[3]};
  uc_reg_write_batch(uc_, ids, vals, 4);
  if (c.milestone) emit(MilestoneEvent{index_, rip(), *c.milestone});
  return true;
}

}  // namespace tdsim::sim
