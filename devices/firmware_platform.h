// The devices a VMM gives a TD's firmware, behind the platform's port I/O exits
// (tdx::HostHooks::port_device): the debug console (0x402), COM1's transmit path
// (0x3f8..0x3ff), fw_cfg (0x510/0x511, its DMA interface at 0x514..0x51b), PCI configuration
// ports (0xcf8, 0xcfc..0xcff) with q35's host bridge and ICH9 LPC bridge, and the ACPI PM
// timer where the LPC bridge places it (q35_chipset.h). Every other port is reported with what was
// asked and reads all-ones: nothing the firmware touches is answered silently. One
// instance per run, used from the vCPU threads under its own lock. Host side; engine-free.
#pragma once
#include <mutex>
#include <optional>
#include <vector>

#include "console.h"
#include "fw_cfg.h"
#include "pci_config.h"
#include "q35_chipset.h"
#include "tdx/host_hooks.h"

namespace tdsim::devices {

class FirmwarePlatform {
 public:
  explicit FirmwarePlatform(const MachineDesc& machine);

  // One exit: the answer and the event. Never nullopt: this platform owns every port.
  std::optional<tdx::PortReply> access(const tdx::PortRequest& req);
  // A MapGPA the VMM passed on (tdx::HostHooks::memory_conversion): which pages DMA may reach.
  void convert(uint64_t gpa, uint64_t size, bool shared);
  // Console text not yet ended by a newline, as events (call at the end of the run).
  std::vector<Event> flush();

 private:
  tdx::PortReply one(uint32_t vcpu, uint16_t port, uint32_t size, bool is_out, uint64_t value, GuestMemory* memory);
  std::mutex lock_;
  LineConsole console_;
  FwCfg fw_cfg_;
  DmaWindow dma_;
  PciConfig pci_;
  AcpiPmTimer pm_timer_;
};

}  // namespace tdsim::devices
