// Guest memory as a device model reaches it by DMA in a TD: only the pages the guest has
// converted to shared (TDG.VP.VMCALL<MapGPA>, which KVM passes on as
// KVM_HC_MAP_GPA_RANGE) are host-visible; private memory is encrypted with the TD's key
// and a VMM that touched it would read ciphertext or corrupt the TD. So every DMA access
// is checked here first and a refused one says why (out of RAM, crossing its end,
// private) instead of touching the bytes. Addresses are GPAs as a device sees them (the
// shared bit, where a guest passes it, is stripped: QEMU's address space has none).
// Host side; engine-free.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/guest_memory.h"

namespace tdsim::devices {

class DmaWindow {
 public:
  explicit DmaWindow(uint64_t shared_bit) : shared_bit_(shared_bit) {}

  // A MapGPA conversion of [gpa, gpa + size): shared or back to private.
  void convert(uint64_t gpa, uint64_t size, bool shared);
  bool shared(uint64_t gpa, uint64_t len) const;

  // nullopt when done; otherwise why nothing was copied. `mem` null: no memory reachable.
  std::optional<std::string> read(const GuestMemory* mem, uint64_t gpa, void* dst, uint64_t len) const;
  std::optional<std::string> write(GuestMemory* mem, uint64_t gpa, const void* src, uint64_t len) const;

 private:
  std::optional<std::string> refuse(const GuestMemory* mem, uint64_t gpa, uint64_t len) const;
  uint64_t shared_bit_;
  std::map<uint64_t, uint64_t> shared_;  // start -> end of each shared range, disjoint, not adjacent
};

}  // namespace tdsim::devices
