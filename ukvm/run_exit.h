// KVM_RUN's two translations for the user-space KVM, the inverse of kvm/tdx_exits.h:
// the engine's RunExit written into the program's struct kvm_run as a TDX-enabled KVM
// fills it, and the program's answer read back out of kvm_run into the platform's
// VmmCompletion on the next KVM_RUN. Pure functions over a kvm_run buffer.
#pragma once
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "td_engine.h"
#include "tdx/vmm.h"

namespace tdsim::ukvm {

// Where KVM_EXIT_IO data goes: one page after kvm_run (x86 KVM_PIO_PAGE_OFFSET).
inline constexpr uint32_t kPioDataOffset = 4096;

// Fills `run` (a mapping of `run_size` bytes) with `exit` and returns KVM_RUN's result:
// 0, or -EINTR for Interrupted and Halted (exit_reason KVM_EXIT_INTR: a halted TD vCPU
// leaves KVM_RUN only for a signal), or -EIO for an exit that does not fit the mapping
// (port I/O data larger than the PIO page).
int write_run_exit(kvm_run& run, size_t run_size, const RunExit& exit);

// The program's completion of `exit` (which write_run_exit put in `run`) as it stands in
// `run` now: MMIO read data, port IN data, the hypercall's ret, KVM_EXIT_TDX's ret and
// GetTdVmCallInfo's R11..R14. Writes need no answer (an empty completion). nullopt for
// ReportFatalError, which the vCPU does not return from.
std::optional<tdx::VmmCompletion> read_completion(const kvm_run& run, size_t run_size, const tdx::UserspaceExit& exit);

// Whether a vCPU may run again after `exit` (not after a fatal error or a shutdown).
bool reenterable(const RunExit& exit);

}  // namespace tdsim::ukvm
