// The TD a VMM builds from TDVF firmware, as a TdImage every backend can start: the
// image's sections where its metadata puts them (BFV and CFV from the file, TempMem
// zeroed, the TD HOB written for the TD's memory), the RAM QEMU's q35 machine gives a TD
// of that size, left unaccepted except where a TempMem or TD_HOB section lies, and the
// sections added in metadata order (the MRTD depends on it). RCX at the reset vector is
// the TD HOB's address (KVM_TDX_INIT_VCPU). Facts in docs/firmware.md.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/td_image.h"
#include "tdvf_metadata.h"

namespace tdsim::firmware {

struct TdvfLayout {
  uint64_t mem_size = 256ull << 20;  // the TD's RAM, 4 KiB multiple
  uint32_t nr_vcpus = 1;
  uint32_t gpaw = 48;  // 48 or 52
};

inline constexpr uint64_t kMaxTdvfMem = 64ull << 30;  // what tdsim will map for one TD
// A firmware file: far above any OVMF/TDVF build (2-4 MiB), and it must fit below 4 GiB.
inline constexpr uint64_t kMaxFirmwareFileBytes = 64ull << 20;
inline constexpr uint32_t kMaxTdvfVcpus = 64;

// The TD's RAM as QEMU's q35 machine splits `mem_size` bytes: [start, end) ranges.
std::vector<std::pair<uint64_t, uint64_t>> q35_ram_map(uint64_t mem_size);

// Throws FirmwareError naming the metadata field or the layout value that is wrong
// (a section outside RAM, RAM overlapping the firmware volumes, no TD_HOB, ...).
TdImage tdvf_image(std::span<const uint8_t> firmware, const TdvfLayout& layout);

}  // namespace tdsim::firmware
