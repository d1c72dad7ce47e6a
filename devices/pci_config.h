// The PC's PCI configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
// 0xcfc..0xcff) with no device on any bus: every configuration read answers all-ones,
// which is how "no device here" reads, and writes go nowhere. Each data access is
// reported with the bus/device/function/register the address selected. Host side.
#pragma once
#include <cstdint>
#include <optional>

#include "core/event.h"

namespace tdsim::devices {

inline constexpr uint16_t kPciConfigAddressPort = 0xcf8;
inline constexpr uint16_t kPciConfigDataPort = 0xcfc;  // 4 ports

class PciConfig {
 public:
  // CONFIG_ADDRESS: a 32-bit write sets it, a 32-bit read returns it (byte or word
  // accesses there are not configuration cycles: nullopt, the caller reports them).
  bool address_write(uint32_t size, uint32_t value);
  std::optional<uint32_t> address_read(uint32_t size) const;
  // CONFIG_DATA at `offset` 0..3: the event naming the access; a read answers all-ones.
  Event data_access(uint32_t vcpu, uint16_t offset, uint32_t size, bool is_out, uint64_t value) const;

 private:
  uint32_t address_ = 0;
};

}  // namespace tdsim::devices
