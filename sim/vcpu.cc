#include "vcpu.h"

#include "engine_limits.h"

#include <fmt/format.h>

#include <cstring>

#include "fault_capture.h"
#include "reset_state.h"
#include "tdsim/abi/tdx.h"
#include "uc_error.h"

namespace tdsim::sim {

namespace {

// No guest address is ever this: uc_emu_start's `until` must not stop us.
constexpr uint64_t kNoUntil = ~0ull;
constexpr uint8_t kHltOpcode = 0xf4;

void code_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  static_cast<Vcpu*>(self)->on_code(addr);
}
// The `size` Unicorn passes at a TDCALL is garbage (engine-notes §6): never used.
void tdcall_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  static_cast<Vcpu*>(self)->on_tdcall(addr);
}
void stub_code_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  static_cast<Vcpu*>(self)->on_stub_code(addr);
}
bool insn_invalid_cb(uc_engine*, void* self) { return static_cast<Vcpu*>(self)->on_insn_invalid(); }
void intr_cb(uc_engine*, uint32_t intno, void* self) { static_cast<Vcpu*>(self)->on_interrupt(intno); }
int cpuid_cb(uc_engine*, void* self) { return static_cast<Vcpu*>(self)->on_cpuid() ? 1 : 0; }
bool mem_invalid_cb(uc_engine*, uc_mem_type type, uint64_t addr, int size, int64_t, void* self) {
  static_cast<Vcpu*>(self)->on_mem_invalid(type, addr, size);
  return false;  // not handled: uc_emu_start returns the matching UC_ERR_*
}

const char* vector_name(uint32_t v) {
  static const char* const names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                      "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "?",
                                      "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
  return v < std::size(names) ? names[v] : "interrupt";
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

Vcpu::Vcpu(uint32_t index, const TdImage& image, GuestMemory& mem, TdxModule& tdx)
    : index_(index), tdx_(tdx), image_(image), mem_(mem) {
  uc_check(uc_open(UC_ARCH_X86, UC_MODE_64, &uc_), "uc_open(UC_ARCH_X86, UC_MODE_64)");
  try {
    size_translation_buffer(uc_);  // first, before Unicorn initialises: see engine_limits.h
    // Shared regions too, at their untagged GPA: the page tables' S-bit was folded out.
    for (const GuestMemory::Block& b : mem.blocks()) {
      const std::string call = fmt::format("uc_mem_map_ptr(region '{}' gpa {:#x} size {:#x})",
                                           b.region->name, b.gpa, b.size);
      uc_check(uc_mem_map_ptr(uc_, b.gpa, b.size, UC_PROT_ALL, b.host), call.c_str());
    }
    uc_hook h;
    // Added first so it runs before any TDCALL site hook at the same address.
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(code_cb), this, 1, 0),
             "uc_hook_add(UC_HOOK_CODE, instruction budget)");
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
    // The stub's CR writes get the checks Unicorn skips (stub_cr_checks.h). Ranged over
    // the stub page only: the stub runs once per boot, code elsewhere pays nothing.
    stub_ = std::make_unique<StubMonitor>(uc_, index, image, mem);
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(stub_code_cb), this,
                         stub_->begin(), stub_->end()),
             "uc_hook_add(UC_HOOK_CODE, boot stub range)");
    load_td_reset_state(uc_, image, index);
    uc_check(uc_context_alloc(uc_, &initial_), "uc_context_alloc(initial vCPU state)");
    uc_check(uc_context_save(uc_, initial_), "uc_context_save(initial vCPU state)");
  } catch (...) {
    if (initial_) uc_context_free(initial_);
    uc_close(uc_);
    throw;
  }
}

Vcpu::~Vcpu() {
  if (initial_) uc_context_free(initial_);
  uc_close(uc_);
}

void Vcpu::reset() {
  uc_check(uc_context_restore(uc_, initial_), "uc_context_restore(initial vCPU state)");
  // The context is a plain copy of the CPU state; a CR3 write makes the engine flush the
  // TLB it filled during the previous run.
  uint64_t cr3 = 0;
  uc_check(uc_reg_write(uc_, UC_X86_REG_CR3, &cr3), "uc_reg_write(CR3) on reset");
  stopped_ = exhausted_ = has_pending_tdcall_site_ = false;
  executed_total_ = 0;
  last_addr_ = ~0ull;
  stub_->reset();
}

uint64_t Vcpu::rip() const {
  uint64_t v = 0;
  uc_reg_read(uc_, UC_X86_REG_RIP, &v);
  return v;
}

void Vcpu::emit(const Event& e) {
  if (sink_) (*sink_)(e);
}

void Vcpu::stop_with(const Event& e) {
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

void Vcpu::add_tdcall_site(uint64_t addr) {
  uc_hook h;
  const std::string call = fmt::format("uc_hook_add(UC_HOOK_CODE, TDCALL site {:#x})", addr);
  uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(tdcall_cb), this, addr, addr),
           call.c_str());
  tdcall_sites_.insert(addr);
}

Vcpu::SliceEnd Vcpu::run_slice(uint64_t max_insns, const EventSink& sink,
                               const std::atomic<bool>& cancel) {
  sink_ = &sink;
  slice_limit_ = max_insns;
  slice_executed_ = 0;
  exhausted_ = at_breakpoint_ = false;
  while (!stopped_) {
    insn_invalid_detail_.clear();
    mem_fault_detail_.clear();
    has_mem_fault_ = false;
    const uc_err err = uc_emu_start(uc_, rip(), kNoUntil, 0, 0);
    if (stopped_) break;
    if (err != UC_ERR_OK) {
      report_engine_error(err, rip());
      break;
    }
    if (has_pending_tdcall_site_) {
      has_pending_tdcall_site_ = false;
      handle_stop_at_tdcall(pending_tdcall_site_);
      if (stopped_) break;
      if (slice_executed_ >= slice_limit_) return SliceEnd::kExhausted;
      continue;
    }
    if (exhausted_) return at_breakpoint_ ? SliceEnd::kBreakpoint : SliceEnd::kExhausted;
    if (cancel.load(std::memory_order_acquire)) return SliceEnd::kCancelled;
    const uint64_t r = rip();
    uint8_t insn[4] = {};
    if (uc_mem_read(uc_, r, insn, 4) == UC_ERR_OK && std::memcmp(insn, abi::kTdcallBytes, 4) == 0) {
      // Unicorn 2.0.1 sometimes ends emulation at a TDCALL without calling any hook.
      handle_stop_at_tdcall(r);
      continue;
    }
    // The only other way a slice ends early is HLT: the last instruction counted was a
    // one-byte F4 just before RIP.
    uint8_t op = 0;
    if (last_addr_ + 1 == r && uc_mem_read(uc_, last_addr_, &op, 1) == UC_ERR_OK && op == kHltOpcode) {
      stop_with(HaltEvent{index_, last_addr_});
      break;
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

void Vcpu::handle_stop_at_tdcall(uint64_t addr) {
  // RIP is a GVA and hooks take GVAs; uc_mem_read took it as a GPA: the layout
  // identity-maps code (GVA == GPA).
  if (!tdcall_sites_.count(addr)) {
    // First TDCALL here. Unicorn always stops after a handled #UD, and restarting after
    // one breaks on the 3rd hit with paging on (2.0.1): a ranged code hook emulates it
    // from now on. Blocks translated before the hook existed must go, or a cached block
    // raises #UD at the site again.
    add_tdcall_site(addr);
    const std::string call = fmt::format("uc_ctl_remove_cache({:#x})", addr);
    uc_check(uc_ctl_remove_cache(uc_, addr, addr + 4), call.c_str());
    uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &addr), "uc_reg_write(RIP)");
    return;
  }
  // The site hook was skipped (a stale translated block): emulate it from out here.
  ++host_emulated_tdcalls_;
  on_tdcall(addr);
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
  ++slice_executed_;
  ++executed_total_;
  last_addr_ = addr;
  if (trace_insn_) trace_insn(addr);
}

bool Vcpu::on_insn_invalid() {
  const uint64_t r = rip();
  uint8_t bytes[15] = {};
  size_t n = sizeof bytes;
  while (n && uc_mem_read(uc_, r, bytes, n) != UC_ERR_OK) --n;
  if (n >= 4 && std::memcmp(bytes, abi::kTdcallBytes, 4) == 0) {
    pending_tdcall_site_ = r;
    has_pending_tdcall_site_ = true;
    return true;
  }
  insn_invalid_detail_ = fmt::format("UC_ERR_INSN_INVALID: invalid opcode (#UD) at rip {:#x}, bytes {:02x}", r,
                                     fmt::join(bytes, bytes + n, " "));
  return false;
}

void Vcpu::on_interrupt(uint32_t intno) {
  if (stopped_) {
    uc_emu_stop(uc_);
    return;
  }
  const uint64_t r = rip();
  std::string detail = fmt::format(
      "exception {} ({}) at rip {:#x}; Unicorn does not deliver exceptions through the "
      "guest IDT, so the vCPU stops (the KVM backend delivers them)",
      intno, vector_name(intno), r);
  if (intno == 14) {
    uint64_t cr2 = 0;
    uc_reg_read(uc_, UC_X86_REG_CR2, &cr2);
    detail += fmt::format("; CR2 {:#x}; the error code is not available from Unicorn", cr2);
  }
  FaultEvent f{index_, r, static_cast<int>(intno), 0, false, std::move(detail)};
  infer_pf_error_code(f, uc_, image_, mem_);
  apply_idt_delivery(f, uc_, image_, mem_);
  stop_with(f);
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

  const TdcallResult res = tdx_.tdcall(index_, addr, in);
  if (trace_ && trace_->tdcall && trace_->sink) trace_->sink(format_tdcall(index_, addr, in, res.regs, res.event));
  if (res.stop) {
    // Not writing RIP: a PC write makes Unicorn continue internally and would swallow
    // the stop request. The vCPU never resumes, so its RIP no longer matters.
    stop_with(*res.event);
    return;
  }
  // Every TDCALL output register (TDG.VP.INFO sets RCX..R11, VMCALL<CPUID> R12..R15);
  // the module returns unchanged values for the rest.
  ucall::TdcallRegs o = res.regs;
  uint64_t* outs[] = {&o.rax, &o.rcx, &o.rdx, &o.rbx, &o.rsi, &o.rdi, &o.r8,
                      &o.r9,  &o.r10, &o.r11, &o.r12, &o.r13, &o.r14, &o.r15};
  uc_reg_write_batch(uc_, const_cast<int*>(kTdcallRegIds), reinterpret_cast<void**>(outs),
                     static_cast<int>(std::size(kTdcallRegIds)));
  if (res.event) emit(*res.event);
  // TDCALL is trap-like: the guest resumes after it. Unicorn leaves the current block on
  // a PC write from a hook and carries on without returning from uc_emu_start.
  const uint64_t next = addr + 4;
  uc_reg_write(uc_, UC_X86_REG_RIP, &next);
}

bool Vcpu::on_cpuid() {
  uint64_t leaf = 0, subleaf = 0;
  uc_reg_read(uc_, UC_X86_REG_RAX, &leaf);
  uc_reg_read(uc_, UC_X86_REG_RCX, &subleaf);
  // Leaf 0x21 subleaf 0 is how a TD learns it is one ("IntelTDX    "); the guest runtime
  // picks the TDCALL ucall transport from it. Every other leaf is Unicorn's.
  const auto v = tdx_.instruction_cpuid(static_cast<uint32_t>(leaf), static_cast<uint32_t>(subleaf));
  if (!v) return false;
  int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX};
  uint64_t out[] = {v->eax, v->ebx, v->ecx, v->edx};
  void* vals[] = {&out[0], &out[1], &out[2], &out[3]};
  uc_reg_write_batch(uc_, ids, vals, 4);
  return true;
}

}  // namespace tdsim::sim
