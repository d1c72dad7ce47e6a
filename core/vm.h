// The host's side of a running TD, stepped the way a KVM selftest steps one: build the
// VM from a TdImage, run one vCPU until its next event (vcpu_run + get_ucall), read or
// change guest memory in between (sync_global_to_guest), answer MMIO reads, resume.
// Backends implement Vm and Vcpu (sim/, kvm/); tests and tools drive them. Knows no
// backend.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"
#include "debug_target.h"
#include "event.h"
#include "td_image.h"

namespace tdsim {

// One bounded stretch of a vCPU's execution, for drivers that share the vCPUs out
// (core/run_to_end.h). Either bound may be "none": max_insns UINT64_MAX, deadline
// time_point::max() (then only kick() ends the turn early).
struct Turn {
  uint64_t max_insns = UINT64_MAX;  // where the backend counts instructions
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The caller takes the events as they come and touches nothing in between, so the
  // vCPU need not stop at each one: it may run on to the end of the turn and hand the
  // rest of the events out from a queue (run_turn returns nullopt only once it is empty).
  bool events_may_queue = false;
  // Other vCPUs wait for this turn: where the backend counts, it may end the turn early
  // at a spin-wait (an x86 PAUSE), which cannot end before another vCPU runs. Where it
  // ends depends on the guest's code alone, so the interleaving stays the same.
  bool others_wait = false;
};

class Vcpu {
 public:
  // `per_call` bounds each run() call (VmOptions::limits).
  explicit Vcpu(const RunLimits& per_call) : per_call_(per_call) {}
  virtual ~Vcpu() = default;
  virtual uint32_t index() const = 0;
  // Runs this vCPU until its next event and returns it: a ucall, an MMIO access, a
  // refused TDCALL, a VMCALL the VMM completed, a halt, a fault, a bad guest pointer, or
  // a BudgetExceededEvent when this call's budget (VmOptions::limits) ran out first.
  // Other vCPUs do not run meanwhile. After a terminal event the vCPU has ended and
  // run() throws std::logic_error, except after a HaltEvent or a ReportFatalError the
  // host may resume() from. One definition for every backend, over run_turn().
  Event run();
  // The mechanism's step: runs until the next event (returned) or the end of `turn`
  // (nullopt; no budget event — the caller decides what running out means), or until
  // kick(). Throws std::logic_error once the vCPU has ended.
  virtual std::optional<Event> run_turn(const Turn& turn) = 0;
  // Makes a run_turn() in progress on another thread return soon (nullopt), or the next
  // one if none is. Thread-safe; what a driver uses to stop vCPUs at a deadline or error.
  virtual void kick() = 0;
  // Carry on after a HLT / TDG.VP.VMCALL<HLT> / ReportFatalError stop, as KVM_RUN does
  // after KVM_EXIT_HLT. False (and nothing changes) after any other end.
  virtual bool resume() = 0;
  virtual bool ended() const = 0;
  // Guest instructions run so far; 0 where the backend cannot count them
  // (BackendCaps::instruction_budget says which).
  virtual uint64_t executed() const = 0;
  // Where the vCPU is, in lines for a budget report (empty where the state is hidden).
  virtual std::vector<std::string> describe_position() const = 0;

 private:
  RunLimits per_call_;
};

struct VmOptions {
  RunLimits limits;  // per Vcpu::run() call
};

class Vm {
 public:
  virtual ~Vm() = default;
  virtual const TdImage& image() const = 0;
  virtual uint32_t nr_vcpus() const = 0;
  virtual Vcpu& vcpu(uint32_t index) = 0;  // throws std::out_of_range
  // Guest physical memory (untagged GPA), checked: false and nothing copied unless
  // [gpa, gpa+len) is guest memory. A write is seen by the guest's next instruction,
  // translated code included.
  virtual bool read(uint64_t gpa, void* dst, uint64_t len) const = 0;
  virtual bool write(uint64_t gpa, const void* src, uint64_t len) = 0;
  // The device behind guest MMIO reads, as Backend::set_mmio_read.
  virtual void set_mmio_read(MmioReadHandler handler) = 0;
  // True where vCPUs may run_turn() on different threads at once (each vCPU from one
  // thread at a time), as KVM's do; false where one engine runs at a time.
  virtual bool concurrent_vcpus() const = 0;
  // The debug-target facet (core/debug_target.h), nullptr where the backend offers none
  // (BackendCaps::debug_target says so beforehand). Debugging drives the vCPUs through
  // the facet and core/round_robin.h instead of Vcpu::run; the two are not mixed.
  virtual DebugTarget* debug_target() { return nullptr; }
  // What the TD platform has left to report once the vCPUs stopped (a firmware's RTMR
  // extends and accepted pages, tdx/tdx_progress.h); run_to_end() passes it on last.
  virtual std::vector<Event> end_of_run() { return {}; }
};

// Thrown for a symbol the image does not have, of another size, or outside the guest
// program's (identity-mapped) memory.
class SymbolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Copies `len` bytes to / from the guest program's global `symbol` (an ELF symbol of
// the image), like the selftests' sync_global_to_guest / sync_global_from_guest. The
// symbol must be exactly `len` bytes and lie in the guest ELF's memory, which the layout
// maps GVA == GPA.
void sync_global_to_guest(Vm& vm, std::string_view symbol, const void* src, uint64_t len);
void sync_global_from_guest(const Vm& vm, std::string_view symbol, void* dst, uint64_t len);

template <class T>
void sync_global_to_guest(Vm& vm, std::string_view symbol, const T& value) {
  sync_global_to_guest(vm, symbol, &value, sizeof value);
}
template <class T>
T sync_global_from_guest(const Vm& vm, std::string_view symbol) {
  T v{};
  sync_global_from_guest(vm, symbol, &v, sizeof v);
  return v;
}

}  // namespace tdsim
