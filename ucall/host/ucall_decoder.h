// Host side of the ucall protocol: turns an MMIO write exit into a ucall event.
// Every guest pointer (the slot, the PRINTF buffer, assert strings) is followed only
// through GuestMemory's checked accessors; nothing here trusts the guest.
#pragma once
#include <cstdint>

#include "core/event.h"
#include "core/guest_memory.h"

namespace tdsim::ucall {

// The ucall exit as KVM reports it: untagged GPA, 8 bytes, write.
bool is_ucall_exit(const MmioEvent& exit, uint64_t ucall_mmio_gpa);

// Decodes a ucall exit. The 8-byte datum is the guest address of a struct Ucall (the
// slot's `self`), identity mapped; a set shared bit is ignored. Returns a UcallEvent,
// or a GuestMemoryErrorEvent naming the GPA and size that could not be read — outside
// guest memory, or in private memory, which the host of a real TD cannot read.
Event decode_ucall(const GuestMemory& mem, const MmioEvent& exit, uint64_t shared_bit);

// MMIO exits in general: a ucall when is_ucall_exit() with a datum other than 0 ("no
// ucall"), otherwise the MmioEvent itself.
Event decode_mmio(const GuestMemory& mem, const MmioEvent& exit, uint64_t ucall_mmio_gpa,
                  uint64_t shared_bit);

}  // namespace tdsim::ucall
