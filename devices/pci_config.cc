#include "pci_config.h"

#include <fmt/format.h>

namespace tdsim::devices {

bool PciConfig::address_write(uint32_t size, uint32_t value) {
  if (size != 4) return false;
  address_ = value;
  return true;
}

std::optional<uint32_t> PciConfig::address_read(uint32_t size) const {
  if (size != 4) return std::nullopt;
  return address_;
}

Event PciConfig::data_access(uint32_t vcpu, uint16_t offset, uint32_t size, bool is_out, uint64_t value) const {
  const bool enabled = (address_ >> 31) & 1;
  const uint32_t bus = (address_ >> 16) & 0xff, dev = (address_ >> 11) & 0x1f, fn = (address_ >> 8) & 7;
  const uint32_t reg = (address_ & 0xfc) + offset;
  if (!enabled)
    return DeviceEvent{vcpu, "pci",
                       fmt::format("config data {} with CONFIG_ADDRESS {:#x} not enabled (bit 31 clear){}",
                                   is_out ? "write" : "read", address_, is_out ? "" : ": all-ones")};
  if (is_out)
    return DeviceEvent{vcpu, "pci",
                       fmt::format("config write {:02x}:{:02x}.{} reg {:#04x} size {} value {:#x}: no device", bus, dev,
                                   fn, reg, size, value)};
  return DeviceEvent{vcpu, "pci",
                     fmt::format("config read {:02x}:{:02x}.{} reg {:#04x} size {}: no device (all-ones)", bus, dev,
                                 fn, reg, size)};
}

}  // namespace tdsim::devices
