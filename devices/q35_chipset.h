// The parts of QEMU's q35 chipset a TD's firmware probes before anything else: the MCH
// host bridge at 00:00.0 (8086:29c0; OVMF reads its device ID to tell q35 from i440fx and
// stops on anything else) and the ICH9 LPC bridge at 00:1f.0 (8086:2918), whose PMBASE
// (0x40) and ACPI_CNTL (0x44) registers place the ACPI power-management block in I/O
// space, with the ACPI PM timer at PMBASE + 8 (OVMF's timer library reads it for every
// delay). Register layouts and reset values as QEMU's hw/pci-host/q35.c and
// hw/isa/lpc_ich9.c set them (docs/firmware.md restates them). Host side; engine-free.
#pragma once
#include <cstdint>
#include <optional>

#include "pci_config.h"

namespace tdsim::devices {

inline constexpr uint16_t kIntelVendorId = 0x8086;
inline constexpr uint16_t kQ35MchDeviceId = 0x29c0;
inline constexpr uint16_t kIch9LpcDeviceId = 0x2918;
inline constexpr uint16_t kQ35HostBridgeBdf = pci_bdf(0, 0, 0);
inline constexpr uint16_t kIch9LpcBdf = pci_bdf(0, 0x1f, 0);
inline constexpr uint32_t kIch9Pmbase = 0x40;      // bits 15:7 the I/O base, bit 0 reads 1 (I/O space)
inline constexpr uint32_t kIch9AcpiCntl = 0x44;    // bit 7 ACPI_EN
inline constexpr uint8_t kIch9AcpiEn = 0x80;
inline constexpr uint16_t kAcpiPmTimerOffset = 8;  // PM1_TMR in the PM block

// The functions at reset: IDs, class codes and header type read-only; the command
// register and the chipset registers past the header hold what software writes.
PciFunction q35_host_bridge();
PciFunction ich9_lpc();

// The PM timer's port as the LPC's registers place it: PMBASE + 8 once ACPI_EN is set
// and PMBASE is not 0, else nullopt (the block is not decoded).
std::optional<uint16_t> ich9_pm_timer_port(const PciFunction& lpc);

// The ACPI PM timer: a 24-bit counter at 3.579545 MHz. Time here passes only when the
// firmware looks: each read advances it by kTicksPerRead (about 10 us), so delay loops end
// after a fixed number of reads and a run does not depend on the host's speed.
class AcpiPmTimer {
 public:
  static constexpr uint32_t kTicksPerRead = 36;
  static constexpr uint32_t kMask = 0xffffff;
  uint32_t read() { return ticks_ = (ticks_ + kTicksPerRead) & kMask; }

 private:
  uint32_t ticks_ = 0;
};

}  // namespace tdsim::devices
