// Delivering an exception through the guest's IDT, as the CPU does and Unicorn does not
// (its interrupt hook hands the exception to the host instead): gate lookup, the
// 32- or 64-bit interrupt frame with the error code, IST stacks, and the nesting rules
// of SDM vol. 3 §6.15 (table 6-5): a fault while delivering a contributory exception or a
// #PF becomes #DF, a fault while delivering #DF shuts the vCPU down (triple fault).
// Unicorn + guest memory only; the caller turns a shutdown into a FaultEvent.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/guest_memory.h"
#include "far_transfer.h"

namespace tdsim::sim {

struct RaisedException {
  int vector = 0;
  std::optional<uint32_t> error_code;  // for the vectors that push one
};

struct Delivery {
  bool delivered = false;               // the vCPU now runs the handler
  // Set with `delivered` when the gate names another code segment: the frame is pushed,
  // and the caller completes the delivery with far_jump() (the API cannot load CS).
  std::optional<FarTarget> far;
  // The gate needs what the engine cannot do (another CS in IA-32e mode or with paging
  // on, or an LDT selector, docs/engine-quirks.md). The vCPU stops at the first
  // exception instead of running the handler wrongly.
  bool not_modelled = false;
  std::vector<RaisedException> chain;   // the original exception first, then each nested one
  std::string why;                      // why the last delivery in the chain failed
};

// Delivers `first` (raised at the instruction RIP points to) through the IDT of `uc`,
// with nested exceptions as the CPU would raise them. On success the registers (RIP,
// RSP, CS, RFLAGS) and the stack are those of the handler's first instruction, except
// where `far` is set: then CS and RIP still have to be loaded by far_jump().
Delivery deliver_exception(uc_engine* uc, GuestMemory& mem, RaisedException first);

// "#GP(0x0) -> #DF(0x0) -> shutdown" style summary.
std::string describe_chain(const Delivery& d);

}  // namespace tdsim::sim
