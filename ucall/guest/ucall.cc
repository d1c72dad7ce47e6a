// ucall(): fill a slot of the shared pool and send its address (selftests' ucall
// protocol). Slots are claimed with LOCK BTS so concurrent vCPUs never share one.
#include "ucall/guest/guest.h"

namespace tdsim::guest {
namespace {

abi::Ucall* take_slot() {
  auto* pool = reinterpret_cast<abi::UcallPool*>(ucall_pool_gva());
  if (pool == nullptr) return nullptr;
  for (uint64_t i = 0; i < abi::kUcallPoolSlots; ++i) {
    bool was_set;
    asm volatile("lock btsq %2, %0" : "+m"(pool->in_use), "=@ccc"(was_set) : "r"(i) : "memory");
    if (!was_set) return &pool->slots[i];
  }
  return nullptr;
}

void release_slot(abi::Ucall* uc) {
  auto* pool = reinterpret_cast<abi::UcallPool*>(ucall_pool_gva());
  const uint64_t i = static_cast<uint64_t>(uc - pool->slots);
  asm volatile("lock btrq %1, %0" : "+m"(pool->in_use) : "r"(i) : "memory", "cc");
}

// The pool is shared with the host; volatile stores keep the compiler from eliding or
// reordering them past the send.
void fill(abi::Ucall* uc, uint64_t cmd, size_t nargs, const uint64_t* args) {
  volatile abi::Ucall* v = uc;
  v->cmd = cmd;
  for (size_t i = 0; i < abi::kUcallMaxArgs; ++i) v->args[i] = i < nargs ? args[i] : 0;
}

uint64_t send_slot(abi::Ucall* uc) {
  const uint64_t self = static_cast<volatile abi::Ucall*>(uc)->self;
  ucall_send(self);
  release_slot(uc);
  return self;
}

void vucall_fmt(uint64_t cmd, size_t nargs, const uint64_t* args, const char* fmt, va_list ap) {
  abi::Ucall* uc = take_slot();
  if (uc == nullptr) {
    ucall_send(abi::kUcallFailed);
    return;
  }
  fill(uc, cmd, nargs, args);
  guest_vsnprintf(uc->buffer, sizeof(uc->buffer), fmt, ap);
  send_slot(uc);
}

}  // namespace
}  // namespace tdsim::guest

using namespace tdsim;
using namespace tdsim::guest;

extern "C" {

uint64_t tdsim_ucall_array(uint64_t cmd, size_t nargs, const uint64_t* args) {
  abi::Ucall* uc = take_slot();
  if (uc == nullptr) {
    ucall_send(abi::kUcallFailed);
    return abi::kUcallFailed;
  }
  fill(uc, cmd, nargs > abi::kUcallMaxArgs ? abi::kUcallMaxArgs : nargs, args);
  return send_slot(uc);
}

uint64_t tdsim_ucall(uint64_t cmd, int nargs, ...) {
  uint64_t args[abi::kUcallMaxArgs] = {};
  const int n = nargs < 0 ? 0 : (nargs > static_cast<int>(abi::kUcallMaxArgs) ? abi::kUcallMaxArgs : nargs);
  va_list ap;
  va_start(ap, nargs);
  for (int i = 0; i < n; ++i) args[i] = va_arg(ap, uint64_t);
  va_end(ap);
  return tdsim_ucall_array(cmd, static_cast<size_t>(n), args);
}

void tdsim_ucall_fmt(uint64_t cmd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vucall_fmt(cmd, 0, nullptr, fmt, ap);
  va_end(ap);
}

void tdsim_ucall_assert(uint64_t cmd, const char* expr, const char* file, unsigned line,
                        const char* fmt, ...) {
  uint64_t args[abi::kUcallMaxArgs] = {};
  args[abi::kAssertArgExpr] = to_u64(expr);
  args[abi::kAssertArgFile] = to_u64(file);
  args[abi::kAssertArgLine] = line;
  va_list ap;
  va_start(ap, fmt);
  vucall_fmt(cmd, abi::kAssertArgLine + 1, args, fmt, ap);
  va_end(ap);
  // An assertion ends the guest, as in the selftests (the host stops at UCALL_ABORT).
  halt_forever();
}

// Called by _start when guest_main returns, and by the IDT stubs.
[[noreturn]] void tdsim_guest_main_returned() {
  GUEST_DONE();
  halt_forever();
}

[[noreturn]] void tdsim_report_unhandled(uint64_t vector, uint64_t error_code, uint64_t rip) {
  uint64_t args[abi::kUcallMaxArgs] = {};
  args[abi::kUnhandledArgVector] = vector;
  args[abi::kUnhandledArgErrorCode] = error_code;
  args[abi::kUnhandledArgRip] = rip;
  ucall_array(abi::kUcallUnhandled, 3, args);
  halt_forever();
}

[[noreturn]] void tdsim_report_unhandled_ve(uint64_t reason, uint64_t rip, uint64_t gpa, uint64_t gla,
                                           uint64_t qualification) {
  uint64_t args[abi::kUcallMaxArgs] = {};
  args[abi::kUnhandledArgVector] = abi::kVeVector;
  args[abi::kUnhandledArgErrorCode] = reason;
  args[abi::kUnhandledArgRip] = rip;
  args[abi::kUnhandledArgVeGpa] = gpa;
  args[abi::kUnhandledArgVeGla] = gla;
  args[abi::kUnhandledArgVeQualification] = qualification;
  ucall_array(abi::kUcallUnhandled, 6, args);
  halt_forever();
}

}  // extern "C"
