// Vcpu's tracing, stub-monitor and position-report members, kept apart from the engine
// driving in vcpu.cc. With tracing off, none of this runs per instruction.
#include <fmt/format.h>

#include "fault_capture.h"
#include "uc_error.h"
#include "vcpu.h"

namespace tdsim::sim {

namespace {
void guest_entry_cb(uc_engine*, uint64_t addr, uint32_t, void* self) {
  static_cast<Vcpu*>(self)->on_guest_entry(addr);
}
}  // namespace

void Vcpu::set_trace(const TraceOptions* t) {
  trace_ = t;
  trace_insn_ = t && t->insn && t->sink;
  update_accounting();  // the instruction trace needs the per-instruction hook
  stub_->set_options(t);
  if (t && t->boot && !entry_hooked_ && index_ < image_.per_vcpu.size()) {
    const uint64_t gc = image_.per_vcpu[index_].guest_code;
    uc_hook h;
    const std::string call = fmt::format("uc_hook_add(UC_HOOK_CODE, guest_code {:#x})", gc);
    uc_check(uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(guest_entry_cb), this, gc, gc),
             call.c_str());
    entry_hooked_ = true;
  }
}

std::vector<std::string> Vcpu::describe_position() const {
  return sim::describe_position(uc_, index_, last_addr_, image_, mem_);
}

void Vcpu::on_stub_code(uint64_t addr) {
  if (in_far_jump_) return;
  // A budget stop at this address leaves the instruction to the next slice.
  if (stopped_ || exhausted_) return;
  // The #GP the CPU would raise for this CR write goes through the guest's IDT like any
  // other exception (in the stub's 32-bit phase that usually ends in a shutdown).
  if (auto fault = stub_->before(addr)) raise_exception(fault->vector, fault->detail);
}

void Vcpu::on_guest_entry(uint64_t addr) {
  if (!stopped_ && !exhausted_) stub_->at_guest_entry(addr);
}

void Vcpu::trace_insn(uint64_t addr) {
  trace_->sink(fmt::format("vcpu {} insn {}", index_, stub_->insn_line(addr)));
}

}  // namespace tdsim::sim
