// What the conformance guest and its host-side runner agree on. Freestanding (used by
// the guest too): constants only.
#pragma once
#include <stdint.h>

namespace tdsim::conformance {

// Each check is one PRINTF ucall: "<prefix>ok <name>", "<prefix>not ok <name> # why",
// "<prefix>skip <name> # reason".
inline constexpr const char kLinePrefix[] = "conformance: ";

// Offsets from the ucall MMIO GPA (same page, which the layout identity-maps for plain
// VMs): a scratch MMIO address for round trips (never a ucall: other GPA), and the
// "measurement device": 8-byte reads at +0 give kMrtdMagic, at +8..+48 the 48 bytes of
// the MRTD the host predicted, little-endian. Any other answer = no device.
inline constexpr uint64_t kScratchMmioOffset = 0x100;
inline constexpr uint64_t kMrtdDeviceOffset = 0x200;
inline constexpr uint64_t kMrtdMagic = 0x4454524d4d495354ull;  // "TSIMMRTD"

}  // namespace tdsim::conformance
