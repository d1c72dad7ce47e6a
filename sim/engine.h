// Opening a Unicorn engine the way every part of the simulator needs it: x86, the given
// mode, and a translation buffer sized for TD boot code rather than Unicorn 2.1's
// default (1 GiB of address space per engine, filled and kept as translations are
// dropped and redone, so a long-lived session's RSS climbed by hundreds of MiB).
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>

namespace tdsim::sim {

// Translated code per engine. TD boot stubs and test guests translate to well under a
// MiB; when the buffer fills, the engine flushes it and translates again.
inline constexpr uint32_t kTcgBufferBytes = 32u << 20;

// uc_open + the buffer size; throws BackendError naming the failing call.
uc_engine* open_engine(uc_mode mode);

}  // namespace tdsim::sim
