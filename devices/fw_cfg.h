// QEMU's firmware configuration device (fw_cfg) as a TD's firmware reaches it over port
// I/O: a 16-bit selector at 0x510 picks an item, the data port 0x511 reads it byte after
// byte (past the end: 0). Only the traditional interface is offered (FW_CFG_ID bit 0; no
// DMA), with the items a firmware asks for first: signature, ID, RAM size, CPU counts,
// the file directory and etc/e820. Every selection is reported (DeviceEvent), an unknown
// item by name. Layouts follow QEMU's docs/specs/fw_cfg.rst: docs/firmware.md restates
// them. Host side; engine-free.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"

namespace tdsim::devices {

inline constexpr uint16_t kFwCfgSelectorPort = 0x510;
inline constexpr uint16_t kFwCfgDataPort = 0x511;
inline constexpr uint16_t kFwCfgDmaPort = 0x514;  // 8 bytes: 0x514..0x51b

// What the machine looks like to its firmware.
struct MachineDesc {
  uint32_t nr_cpus = 1;
  std::vector<std::pair<uint64_t, uint64_t>> ram;  // [start, end) ranges of RAM
};

class FwCfg {
 public:
  explicit FwCfg(const MachineDesc& machine);

  // A selector write (16 bits): the item and what the host sees of the request.
  Event select(uint32_t vcpu, uint16_t key);
  // The next `n` bytes of the selected item (zeros past its end).
  std::vector<uint8_t> read(size_t n);
  // The DMA registers: not offered (FW_CFG_ID says so); reported, nothing done.
  Event dma_access(uint32_t vcpu, uint16_t port, bool is_out) const;

  // Item keys and names (for the reports and tests).
  static constexpr uint16_t kSignature = 0x0000, kId = 0x0001, kRamSize = 0x0003, kNbCpus = 0x0005,
                            kMaxCpus = 0x000f, kFileDir = 0x0019, kFirstFile = 0x0020;
  // An item's bytes, or nullptr.
  const std::vector<uint8_t>* item(uint16_t key) const;

 private:
  struct Item {
    std::string name;
    std::vector<uint8_t> bytes;
  };
  void add_file(const std::string& name, std::vector<uint8_t> bytes);
  std::map<uint16_t, Item> items_;
  std::vector<std::pair<std::string, uint16_t>> files_;
  const Item* selected_ = nullptr;
  size_t offset_ = 0;
};

}  // namespace tdsim::devices
