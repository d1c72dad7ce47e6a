// The guest's copy of the host-provided configuration, plus the per-vCPU entry RSP
// record. tdsim_guest_config lives in .data on purpose: the layout patches the ELF's
// loaded bytes, and .bss has no bytes in the file to patch.
#include "ucall/guest/guest.h"

extern "C" {
__attribute__((section(".data"), used)) tdsim::abi::GuestConfig tdsim_guest_config = {};
uint64_t tdsim_entry_rsp[TDSIM_GUEST_MAX_ENTRY_RSP_VCPUS];
}

namespace {

// Volatile reads: the compiler must not fold the zero initialiser into the code, since
// the real values only exist in the loaded image.
const volatile tdsim::abi::GuestConfig& config() { return tdsim_guest_config; }

}  // namespace

extern "C" {

bool tdsim_config_valid(void) {
  return config().magic == tdsim::abi::kGuestConfigMagic &&
         config().version == tdsim::abi::kGuestConfigVersion;
}
uint32_t tdsim_nr_vcpus(void) { return config().nr_vcpus; }
uint64_t tdsim_ucall_mmio_gpa(void) { return config().ucall_mmio_gpa; }
uint64_t tdsim_ucall_pool_gva(void) { return config().ucall_pool_gva; }
uint64_t tdsim_shared_bit(void) { return config().shared_bit; }
uint32_t tdsim_gpaw(void) { return config().gpaw; }

}  // extern "C"
