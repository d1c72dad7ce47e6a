// The TD HOB a VMM writes for TDVF: the hand-off list the firmware reads from RCX at its
// reset vector (KVM_TDX_INIT_VCPU's value) to learn the TD's memory. Built the way QEMU
// builds it (docs/firmware.md): a PHIT HOB whose EfiEndOfHobList is the guest address
// just past the list, one resource descriptor per RAM range in ascending address order
// (system memory where the VMM added the pages, unaccepted memory elsewhere), then the
// end-of-list HOB. Little-endian, 8-byte aligned; fields pinned by static_assert.
#pragma once
#include <cstdint>
#include <vector>

namespace tdsim::firmware {

// UEFI PI HOB types and the resource values QEMU uses for a TD.
inline constexpr uint16_t kHobTypeHandoff = 0x0001;
inline constexpr uint16_t kHobTypeResourceDescriptor = 0x0003;
inline constexpr uint16_t kHobTypeEndOfHobList = 0xffff;
inline constexpr uint32_t kHandoffTableVersion = 0x0009;
inline constexpr uint32_t kResourceSystemMemory = 0x0;
inline constexpr uint32_t kResourceMemoryUnaccepted = 0x7;
// PRESENT | INITIALIZED | TESTED, for added and unaccepted memory alike.
inline constexpr uint32_t kResourceAttributesTdvf = 0x1 | 0x2 | 0x4;

struct RamRange {
  uint64_t gpa = 0;
  uint64_t size = 0;
  bool added = false;  // pages the VMM added at launch (TempMem, TD_HOB); else unaccepted
};

// The HOB list at `hob_gpa` for these ranges (sorted here). Throws FirmwareError when it
// does not fit in `capacity` bytes (the TD_HOB section's size).
std::vector<uint8_t> build_td_hob(uint64_t hob_gpa, uint64_t capacity, std::vector<RamRange> ranges);

}  // namespace tdsim::firmware
