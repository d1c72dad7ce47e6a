// The kvm-tdx backend's userspace exits as the VMM layer sees them: reads KVM_EXIT_MMIO,
// KVM_EXIT_IO, KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE), KVM_EXIT_TDX and
// KVM_EXIT_SYSTEM_EVENT(TDX_FATAL) out of kvm_run into tdx::UserspaceExit, and writes the
// VMM's completion back where KVM reads it on the next KVM_RUN. Pure functions over a
// kvm_run buffer (no ioctl), so every exit kind is unit-tested without /dev/kvm.
// Everything KVM put in kvm_run is bounded before use: a malformed exit is a FaultEvent.
#pragma once
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "core/event.h"
#include "tdx/vmm.h"

namespace tdsim::kvm {

// The exit in `run` (a mapping of `run_size` bytes, as KVM_GET_VCPU_MMAP_SIZE gave it) as
// the VMM's exit; a FaultEvent when it breaks KVM's rules (bad size or direction, I/O data
// outside the mapping, an unknown KVM_EXIT_TDX sub-function or hypercall); nullopt when
// the exit reason is not one the VMM takes (HLT, SHUTDOWN, other system events, ...).
using VmmExitOrFault = std::variant<::tdsim::tdx::UserspaceExit, FaultEvent>;
std::optional<VmmExitOrFault> read_vmm_exit(const kvm_run& run, size_t run_size, uint32_t vcpu,
                                            uint64_t rip = 0);

// Writes `c` into `run` for `exit` (which read_vmm_exit made from this run): MMIO read
// data into mmio.data, port IN data into the I/O data area, hypercall.ret, the TDX exit's
// ret (and R11..R14 for GetTdVmCallInfo). Returns an error text, or nullopt when written.
std::optional<std::string> write_completion(kvm_run& run, size_t run_size, const ::tdsim::tdx::UserspaceExit& exit,
                                            const ::tdsim::tdx::VmmCompletion& c);

// What one exit came to.
struct TdxExitOutcome {
  bool handled = false;        // false: not a VMM exit, the caller decides
  std::optional<Event> event;  // what the host sees, if anything
  bool stop = false;           // the vCPU does not re-enter
};

// read_vmm_exit, the VMM, write_completion: the kvm-tdx backend's path for one exit.
TdxExitOutcome handle_vmm_exit(kvm_run& run, size_t run_size, uint32_t vcpu, const ::tdsim::tdx::Vmm& vmm,
                               uint64_t rip = 0);

}  // namespace tdsim::kvm
