// ucall ABI shared by the freestanding guest runtime and the host decoder.
// struct Ucall is byte-compatible with the KVM selftests' struct ucall on x86-64.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace tdsim::abi {

enum UcallCmd : uint64_t {
  kUcallNone = 0,
  kUcallSync = 1,
  kUcallAbort = 2,
  kUcallPrintf = 3,
  kUcallDone = 4,
  kUcallUnhandled = 5,
};
inline constexpr uint64_t kUcallCmdMax = kUcallUnhandled;

inline constexpr size_t kUcallMaxArgs = 7;
inline constexpr size_t kUcallBufferLen = 1024;

// For kUcallAbort: args[0] = guest address of the expression text, args[1] = guest
// address of the file name, args[2] = line; buffer = formatted message.
inline constexpr size_t kAssertArgExpr = 0;
inline constexpr size_t kAssertArgFile = 1;
inline constexpr size_t kAssertArgLine = 2;

struct Ucall {
  uint64_t cmd;
  uint64_t args[kUcallMaxArgs];
  char buffer[kUcallBufferLen];
  // Pre-set by the host to the slot's own guest address; the guest sends this value.
  uint64_t self;
};

static_assert(offsetof(Ucall, cmd) == 0);
static_assert(offsetof(Ucall, args) == 8);
static_assert(offsetof(Ucall, buffer) == 64);
static_assert(offsetof(Ucall, self) == 1088);
static_assert(sizeof(Ucall) == 1096);

// The pool lives in shared pages: an in-use bitmap (one bit per slot) then the slots.
inline constexpr size_t kUcallPoolSlots = 64;
struct UcallPool {
  uint64_t in_use;  // bit i set = slot i taken (LOCK BTS / BTR)
  Ucall slots[kUcallPoolSlots];
};
static_assert(offsetof(UcallPool, slots) == 8);
static_assert(sizeof(UcallPool) == 8 + 64 * 1096);

// Sent instead of a slot address when the pool is missing or full (selftests' -1).
inline constexpr uint64_t kUcallFailed = ~0ull;

}  // namespace tdsim::abi
