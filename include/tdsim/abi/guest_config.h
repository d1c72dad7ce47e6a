// Values the host writes into a guest ELF's `tdsim_guest_config` object before boot
// (the selftests' sync_global_to_guest, done once by the layout module).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace tdsim::abi {

inline constexpr const char kGuestConfigSymbol[] = "tdsim_guest_config";
inline constexpr uint64_t kGuestConfigMagic = 0x4749464e43445354ull;  // "TSDCNFIG"
// Bumped on any change to GuestConfig.
inline constexpr uint32_t kGuestConfigVersion = 1;

struct GuestConfig {
  uint64_t magic;           // kGuestConfigMagic once the host filled it in
  uint32_t version;         // kGuestConfigVersion
  uint32_t nr_vcpus;
  uint64_t ucall_mmio_gpa;  // with the shared bit set, as TDG.VP.VMCALL<MMIO> wants it
  uint64_t ucall_pool_gva;  // identity mapped: GVA == untagged GPA
  uint64_t shared_bit;      // 1 << (GPAW - 1)
  uint32_t gpaw;            // 48 or 52
  uint32_t reserved;
};

static_assert(offsetof(GuestConfig, ucall_mmio_gpa) == 16);
static_assert(offsetof(GuestConfig, gpaw) == 40);
static_assert(sizeof(GuestConfig) == 48);

}  // namespace tdsim::abi

namespace tdsim::abi {

// If a guest ELF defines this symbol, the layout points IDT vector v at
// tdsim_idt_stubs + v * kIdtStubStride; each stub reports UCALL_UNHANDLED with
// args[0] = vector, args[1] = error code (0 if none), args[2] = faulting RIP.
inline constexpr const char kIdtStubsSymbol[] = "tdsim_idt_stubs";
inline constexpr uint64_t kIdtStubStride = 16;
inline constexpr size_t kUnhandledArgVector = 0;
inline constexpr size_t kUnhandledArgErrorCode = 1;
inline constexpr size_t kUnhandledArgRip = 2;

}  // namespace tdsim::abi
