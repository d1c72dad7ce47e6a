// ucall ABI shared by the freestanding guest runtime and the host decoder.
// struct Ucall is byte-compatible with the KVM selftests' struct ucall on x86-64.
// C11 and C++ (lang.h says how the names appear in each).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "tdsim/abi/lang.h"

TDSIM_ABI_BEGIN

TDSIM_ABI_ENUM(UcallCmd, uint64_t){
    kUcallNone = 0, kUcallSync = 1, kUcallAbort = 2, kUcallPrintf = 3, kUcallDone = 4, kUcallUnhandled = 5,
};
TDSIM_ABI_CONST(uint64_t, kUcallCmdMax, kUcallUnhandled)

TDSIM_ABI_CONST(size_t, kUcallMaxArgs, 7)
TDSIM_ABI_CONST(size_t, kUcallBufferLen, 1024)

// For kUcallAbort: args[0] = guest address of the expression text, args[1] = guest
// address of the file name, args[2] = line; buffer = formatted message.
TDSIM_ABI_CONST(size_t, kAssertArgExpr, 0)
TDSIM_ABI_CONST(size_t, kAssertArgFile, 1)
TDSIM_ABI_CONST(size_t, kAssertArgLine, 2)

typedef struct Ucall {
  uint64_t cmd;
  uint64_t args[kUcallMaxArgs];
  char buffer[kUcallBufferLen];
  // Pre-set by the host to the slot's own guest address; the guest sends this value.
  uint64_t self;
} Ucall;

TDSIM_ABI_STATIC_ASSERT(offsetof(Ucall, cmd) == 0);
TDSIM_ABI_STATIC_ASSERT(offsetof(Ucall, args) == 8);
TDSIM_ABI_STATIC_ASSERT(offsetof(Ucall, buffer) == 64);
TDSIM_ABI_STATIC_ASSERT(offsetof(Ucall, self) == 1088);
TDSIM_ABI_STATIC_ASSERT(sizeof(Ucall) == 1096);

// The pool lives in shared pages: an in-use bitmap (one bit per slot) then the slots.
TDSIM_ABI_CONST(size_t, kUcallPoolSlots, 64)
typedef struct UcallPool {
  uint64_t in_use;  // bit i set = slot i taken (LOCK BTS / BTR)
  Ucall slots[kUcallPoolSlots];
} UcallPool;
TDSIM_ABI_STATIC_ASSERT(offsetof(UcallPool, slots) == 8);
TDSIM_ABI_STATIC_ASSERT(sizeof(UcallPool) == 8 + 64 * 1096);

// Sent instead of a slot address when the pool is missing or full (selftests' -1).
TDSIM_ABI_CONST(uint64_t, kUcallFailed, ~0ull)

TDSIM_ABI_END
