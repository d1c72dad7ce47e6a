// Values the host writes into a guest ELF's `tdsim_guest_config` object before boot
// (the selftests' sync_global_to_guest, done once by the layout module).
// C11 and C++ (lang.h says how the names appear in each).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "tdsim/abi/lang.h"

TDSIM_ABI_BEGIN

#ifdef __cplusplus
// Symbol names the host looks up in the guest ELF; guests never need them.
inline constexpr const char kGuestConfigSymbol[] = "tdsim_guest_config";
inline constexpr const char kIdtStubsSymbol[] = "tdsim_idt_stubs";
#endif

TDSIM_ABI_CONST(uint64_t, kGuestConfigMagic, 0x4749464e43445354ull)  // "TSDCNFIG"
// Bumped on any change to GuestConfig.
TDSIM_ABI_CONST(uint32_t, kGuestConfigVersion, 1)

typedef struct GuestConfig {
  uint64_t magic;           // kGuestConfigMagic once the host filled it in
  uint32_t version;         // kGuestConfigVersion
  uint32_t nr_vcpus;
  uint64_t ucall_mmio_gpa;  // with the shared bit set, as TDG.VP.VMCALL<MMIO> wants it
  uint64_t ucall_pool_gva;  // identity mapped: GVA == untagged GPA
  uint64_t shared_bit;      // 1 << (GPAW - 1)
  uint32_t gpaw;            // 48 or 52
  uint32_t reserved;
} GuestConfig;

TDSIM_ABI_STATIC_ASSERT(offsetof(GuestConfig, ucall_mmio_gpa) == 16);
TDSIM_ABI_STATIC_ASSERT(offsetof(GuestConfig, gpaw) == 40);
TDSIM_ABI_STATIC_ASSERT(sizeof(GuestConfig) == 48);

// If a guest ELF defines tdsim_idt_stubs, the layout points IDT vector v at
// tdsim_idt_stubs + v * kIdtStubStride; each stub reports UCALL_UNHANDLED with
// args[0] = vector, args[1] = error code (0 if none), args[2] = faulting RIP.
TDSIM_ABI_CONST(uint64_t, kIdtStubStride, 16)
TDSIM_ABI_CONST(size_t, kUnhandledArgVector, 0)
TDSIM_ABI_CONST(size_t, kUnhandledArgErrorCode, 1)
TDSIM_ABI_CONST(size_t, kUnhandledArgRip, 2)
// The runtime's #VE handler reports a #VE it does not handle with the information it
// read: args[1] = exit reason, then the GPA, GLA and exit qualification.
TDSIM_ABI_CONST(size_t, kUnhandledArgVeGpa, 3)
TDSIM_ABI_CONST(size_t, kUnhandledArgVeGla, 4)
TDSIM_ABI_CONST(size_t, kUnhandledArgVeQualification, 5)

TDSIM_ABI_END
