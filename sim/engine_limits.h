// How much address space a Unicorn engine takes. Unicorn reserves its translation
// buffer when an engine is first used; under an address-space limit (ulimit -v) that
// reservation fails inside Unicorn, which then prints its own message and calls exit(1)
// — indistinguishable from a guest assert. Engines get a modest buffer (sim/engine.h),
// and a run checks up front whether its engines fit the limit, failing as a backend
// error (exit 70) if not.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>

#include "engine.h"

namespace tdsim::sim {

// Address space one engine takes besides its translation buffer (QEMU's machine, the
// softmmu TLBs, allocator arenas): an upper estimate, so the check errs towards refusing
// (docs/reliability.md has the measured limits).
inline constexpr uint64_t kEngineOverheadBytes = 48ull << 20;

// Throws BackendError ("address-space limit ... too small for N Unicorn engines") when
// RLIMIT_AS leaves less room than `nr_engines` engines plus `guest_bytes` of guest
// memory need on top of what the process already uses. No limit: never throws.
void check_address_space_for_engines(uint32_t nr_engines, uint64_t guest_bytes);

}  // namespace tdsim::sim
