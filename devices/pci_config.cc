#include "pci_config.h"

#include <fmt/format.h>

namespace tdsim::devices {

uint32_t PciFunction::read(uint32_t reg, uint32_t size) const {
  uint32_t v = 0;
  for (uint32_t b = 0; b < size && reg + b < bytes.size(); ++b) v |= uint32_t{bytes[reg + b]} << (8 * b);
  return v;
}

void PciFunction::write(uint32_t reg, uint32_t size, uint32_t value) {
  for (uint32_t b = 0; b < size && reg + b < bytes.size(); ++b) {
    const auto in = static_cast<uint8_t>(value >> (8 * b));
    const uint8_t mask = writable[reg + b];
    bytes[reg + b] = static_cast<uint8_t>((bytes[reg + b] & ~mask) | (in & mask));
  }
}

const PciFunction* PciConfig::function(uint16_t bdf) const {
  auto it = functions_.find(bdf);
  return it == functions_.end() ? nullptr : &it->second;
}

bool PciConfig::address_write(uint32_t size, uint32_t value) {
  if (size != 4) return false;
  address_ = value;
  return true;
}

std::optional<uint32_t> PciConfig::address_read(uint32_t size) const {
  if (size != 4) return std::nullopt;
  return address_;
}

PciConfig::DataAccess PciConfig::data_access(uint32_t vcpu, uint16_t offset, uint32_t size, bool is_out,
                                             uint64_t value) {
  const bool enabled = (address_ >> 31) & 1;
  const uint32_t bus = (address_ >> 16) & 0xff, dev = (address_ >> 11) & 0x1f, fn = (address_ >> 8) & 7;
  const uint32_t reg = (address_ & 0xfc) + offset;
  if (!enabled)
    return {DeviceEvent{vcpu, "pci",
                        fmt::format("config data {} with CONFIG_ADDRESS {:#x} not enabled (bit 31 clear){}",
                                    is_out ? "write" : "read", address_, is_out ? "" : ": all-ones")}};
  auto it = functions_.find(pci_bdf(bus, dev, fn));
  if (it == functions_.end()) {
    if (is_out)
      return {DeviceEvent{vcpu, "pci",
                          fmt::format("config write {:02x}:{:02x}.{} reg {:#04x} size {} value {:#x}: no device", bus,
                                      dev, fn, reg, size, value)}};
    return {DeviceEvent{vcpu, "pci",
                        fmt::format("config read {:02x}:{:02x}.{} reg {:#04x} size {}: no device (all-ones)", bus, dev,
                                    fn, reg, size)}};
  }
  PciFunction& f = it->second;
  if (is_out) {
    f.write(reg, size, static_cast<uint32_t>(value));
    return {DeviceEvent{vcpu, "pci",
                        fmt::format("config write {:02x}:{:02x}.{} reg {:#04x} size {} value {:#x} (now {:#x})", bus,
                                    dev, fn, reg, size, value, f.read(reg, size))}};
  }
  const uint32_t v = f.read(reg, size);
  return {DeviceEvent{vcpu, "pci",
                      fmt::format("config read {:02x}:{:02x}.{} reg {:#04x} size {}: {:#x}", bus, dev, fn, reg, size, v)},
          v};
}

}  // namespace tdsim::devices
