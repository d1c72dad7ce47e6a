// The PC's PCI configuration mechanism #1 (CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at
// 0xcfc..0xcff) in front of the machine's PCI functions (q35_chipset.h): a function there
// answers from its configuration space, every other bus/device/function reads all-ones,
// which is how "no device here" reads, and takes no writes. Each data access is reported
// with the bus/device/function/register the address selected. Host side.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>

#include "core/event.h"

namespace tdsim::devices {

inline constexpr uint16_t kPciConfigAddressPort = 0xcf8;
inline constexpr uint16_t kPciConfigDataPort = 0xcfc;  // 4 ports

// One function's 256-byte configuration space: the bytes and which bits software may
// write (the rest, IDs and class codes first, are read-only).
struct PciFunction {
  std::array<uint8_t, 256> bytes{};
  std::array<uint8_t, 256> writable{};
  uint32_t read(uint32_t reg, uint32_t size) const;
  void write(uint32_t reg, uint32_t size, uint32_t value);
};

// bus << 8 | device << 3 | function, as CONFIG_ADDRESS bits 23:8 hold it.
inline constexpr uint16_t pci_bdf(uint32_t bus, uint32_t dev, uint32_t fn) {
  return static_cast<uint16_t>((bus << 8) | (dev << 3) | fn);
}

class PciConfig {
 public:
  void add(uint16_t bdf, PciFunction f) { functions_[bdf] = f; }
  const PciFunction* function(uint16_t bdf) const;

  // CONFIG_ADDRESS: a 32-bit write sets it, a 32-bit read returns it (byte or word
  // accesses there are not configuration cycles: nullopt, the caller reports them).
  bool address_write(uint32_t size, uint32_t value);
  std::optional<uint32_t> address_read(uint32_t size) const;
  // CONFIG_DATA at `offset` 0..3: the event naming the access and, for a read, the
  // value (all-ones without a function there).
  struct DataAccess {
    Event event;
    uint32_t value = ~0u;
  };
  DataAccess data_access(uint32_t vcpu, uint16_t offset, uint32_t size, bool is_out, uint64_t value);

 private:
  uint32_t address_ = 0;
  std::map<uint16_t, PciFunction> functions_;
};

}  // namespace tdsim::devices
