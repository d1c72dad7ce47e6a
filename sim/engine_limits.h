// How much address space a Unicorn engine takes, and making it take little. Unicorn
// reserves its translation buffer (1 GiB by default on x86-64 hosts) when an engine is
// first used; under an address-space limit (ulimit -v) that reservation fails inside
// Unicorn, which then prints its own message and calls exit(1) — indistinguishable from
// a guest assert. Engines therefore get a modest buffer, and a run checks up front
// whether its engines fit the limit, failing as a backend error (exit 70) if not.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>

namespace tdsim::sim {

// Translation buffer per engine: ample for the guests and stubs tdsim runs (the
// conformance guest translates well under 1 MiB of code); QEMU flushes and retranslates
// if it ever fills.
inline constexpr uint32_t kTcgBufferBytes = 32u << 20;
// Address space one engine takes besides its translation buffer (QEMU's machine, the
// softmmu TLBs, allocator arenas): an upper estimate, so the check errs towards refusing
// (docs/reliability.md has the measured limits).
inline constexpr uint64_t kEngineOverheadBytes = 48ull << 20;

// Call right after uc_open(), before anything else touches the engine: the size only
// applies before Unicorn's lazy initialisation. Throws BackendError if Unicorn refuses.
void size_translation_buffer(uc_engine* uc);

// Throws BackendError ("address-space limit ... too small for N Unicorn engines") when
// RLIMIT_AS leaves less room than `nr_engines` engines plus `guest_bytes` of guest
// memory need on top of what the process already uses. No limit: never throws.
void check_address_space_for_engines(uint32_t nr_engines, uint64_t guest_bytes);

}  // namespace tdsim::sim
