// What tdsim learns from a throwaway Unicorn engine, once per process: the CPU context
// of flat 32-bit protected mode that every vCPU's reset state starts from
// (reset_state.h), and where QEMU's exception record sits in a saved context
// (exception_record.h). One UC_MODE_32 engine answers both, so a process pays for one
// extra engine however many vCPUs and sessions it makes; before, every vCPU opened its
// own throwaway engine for the first and the process a third one for the second, each a
// whole engine set-up (a third of a cold `tdsim run`: docs/performance.md).
// Unicorn-only; knows nothing of TDX.
#pragma once
#include <unicorn/unicorn.h>

#include <cstddef>
#include <optional>

namespace tdsim::sim {

struct ScratchFacts {
  // Saved right after the scratch GDT's flat code and data descriptors were loaded into
  // the segment caches, before the engine ran anything. Restored into UC_MODE_64 engines
  // (the context is a copy of the CPU state, usable after its engine is closed).
  const uc_context* flat32 = nullptr;
  // The size of a context of that engine: a context of another layout cannot take it.
  size_t context_size = 0;
  // The exception record's byte offset in such a context, or nullopt where the probe
  // could not find it unambiguously.
  std::optional<size_t> exception_record_offset;
};

// Computed at the first call, then kept for the process; thread-safe. Throws
// BackendError (naming the uc_* call) if the scratch engine or its flat context cannot
// be made; the next call tries again.
const ScratchFacts& scratch_facts();

}  // namespace tdsim::sim
