// The guest's copy of the host-provided configuration, plus the per-vCPU entry RSP
// record. tdsim_guest_config lives in .data on purpose: the layout patches the ELF's
// loaded bytes, and .bss has no bytes in the file to patch.
#include "ucall/guest/guest.h"

extern "C" {
__attribute__((section(".data"), used)) tdsim::abi::GuestConfig tdsim_guest_config = {};
uint64_t tdsim_entry_rsp[tdsim::guest::kMaxEntryRspVcpus];
}

namespace tdsim::guest {

// Volatile reads: the compiler must not fold the zero initialiser into the code, since
// the real values only exist in the loaded image.
static const volatile abi::GuestConfig& config() { return tdsim_guest_config; }

bool config_valid() {
  return config().magic == abi::kGuestConfigMagic && config().version == abi::kGuestConfigVersion;
}
uint32_t nr_vcpus() { return config().nr_vcpus; }
uint64_t ucall_mmio_gpa() { return config().ucall_mmio_gpa; }
uint64_t ucall_pool_gva() { return config().ucall_pool_gva; }
uint64_t shared_bit() { return config().shared_bit; }
uint32_t gpaw() { return config().gpaw; }

}  // namespace tdsim::guest
