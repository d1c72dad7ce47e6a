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

// Keeps the engines' translation buffers on 4 KiB pages. Unicorn asks for transparent huge
// pages on its buffer (madvise), so the first translation of every engine makes the
// kernel zero 2 MiB; with one engine per vCPU that was a third of a 64-vCPU run
// (docs/performance.md). Process-wide and inherited by children across fork and exec
// (PR_SET_THP_DISABLE): for a process that owns its engines, such as the tdsim command,
// not for the user-space KVM inside someone else's program, nor before starting one.
// Returns false when the kernel refuses (only speed is lost).
bool keep_code_buffers_off_huge_pages();

// For a command that exits right after its run (`tdsim run`): engines closed from now on
// are left to the process's exit instead. uc_close frees an engine piece by piece (its
// TLBs, hash tables, memory map, code buffer), about 7% of a 64-vCPU run, work the
// kernel does in one go when the process exits; nothing observable depends on it.
// Process-wide and one-way. A parked engine stays reachable from a global, so leak
// checkers (LSan) do not report it; a process that goes on making engines must not ask.
void leave_engines_to_exit();
// uc_close, or the engine parked until exit after leave_engines_to_exit().
void close_engine(uc_engine* uc);

// Sets CR2 without touching CR3. Unicorn 2.1.1's uc_reg_write(UC_X86_REG_CR2) also
// stores the value into CR3 (tests/sim/engine_quirks_test.cc pins it), so CR3 is put
// back right after. Throws BackendError.
void write_cr2(uc_engine* uc, uint64_t cr2);

}  // namespace tdsim::sim
