// Turns the KVM exits both KVM backends share into tdsim events: MMIO (ucall or plain),
// port I/O, HLT, shutdown, entry failure, internal errors. The TDCALL emulation of the
// plain backend and the TDX-only exits live elsewhere; this file reads only kvm_run.
#pragma once
#include <linux/kvm.h>

#include <cstdint>
#include <string>

#include "core/backend.h"
#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"

namespace tdsim::kvm {

// KVM_EXIT_MMIO as an MmioEvent (len <= 8 bytes of data, little-endian).
MmioEvent mmio_event_from_run(const kvm_run& run, uint32_t vcpu);

// KVM_EXIT_MMIO -> UcallEvent / GuestMemoryErrorEvent / MmioEvent via the ucall decoder.
// For a read, run->mmio.data gets the device's answer (0 where none) for the next
// KVM_RUN to complete the access with, and the MmioEvent carries it.
Event decode_mmio_exit(kvm_run& run, uint32_t vcpu, const TdImage& image, const GuestMemory& mem,
                       const MmioReadHandler& read);

// "exit reason 17 (KVM_EXIT_INTERNAL_ERROR), suberror 1, ..." — the details an exit
// carries, for FaultEvent::detail.
std::string describe_exit(const kvm_run& run);

// Name of a KVM exit reason ("KVM_EXIT_MMIO"), or "exit reason N".
std::string exit_reason_name(uint32_t reason);

// The instruction bytes of an emulation-failure exit, if KVM supplied them.
bool emulation_failure_bytes(const kvm_run& run, const uint8_t** bytes, uint32_t* len);

}  // namespace tdsim::kvm
