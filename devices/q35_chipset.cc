#include "q35_chipset.h"

namespace tdsim::devices {

namespace {

void put(PciFunction& f, uint32_t reg, uint32_t size, uint32_t value) {
  for (uint32_t b = 0; b < size; ++b) f.bytes[reg + b] = static_cast<uint8_t>(value >> (8 * b));
}

// Vendor/device, the command register's I/O, memory and bus-master enables, revision,
// class code, header type and QEMU's subsystem IDs (1af4:1100); the chipset registers
// from 0x40 on are storage software programs.
PciFunction bridge(uint16_t device, uint8_t subclass, uint8_t header_type) {
  PciFunction f;
  put(f, 0x00, 2, kIntelVendorId);
  put(f, 0x02, 2, device);
  put(f, 0x0a, 1, subclass);
  put(f, 0x0b, 1, 0x06);  // class: bridge
  put(f, 0x0e, 1, header_type);
  put(f, 0x2c, 2, 0x1af4);
  put(f, 0x2e, 2, 0x1100);
  f.writable[0x04] = 0x07;
  for (uint32_t r = 0x40; r < 0x100; ++r) f.writable[r] = 0xff;
  return f;
}

}  // namespace

PciFunction q35_host_bridge() { return bridge(kQ35MchDeviceId, 0x00, 0x00); }

PciFunction ich9_lpc() {
  PciFunction f = bridge(kIch9LpcDeviceId, 0x01, 0x80);  // ISA bridge, multi-function device
  put(f, kIch9Pmbase, 4, 0x1);                           // I/O space indicator, base 0
  f.writable[kIch9Pmbase] = 0x80;                        // base bits 15:7
  f.writable[kIch9Pmbase + 1] = 0xff;
  f.writable[kIch9Pmbase + 2] = 0;
  f.writable[kIch9Pmbase + 3] = 0;
  return f;
}

std::optional<uint16_t> ich9_pm_timer_port(const PciFunction& lpc) {
  if (!(lpc.bytes[kIch9AcpiCntl] & kIch9AcpiEn)) return std::nullopt;
  const auto base = static_cast<uint16_t>(lpc.read(kIch9Pmbase, 2) & 0xff80);
  if (base == 0) return std::nullopt;
  return static_cast<uint16_t>(base + kAcpiPmTimerOffset);
}

}  // namespace tdsim::devices
