// QEMU's firmware configuration device (fw_cfg) as a TD's firmware reaches it over port
// I/O: a 16-bit selector at 0x510 picks an item, the data port 0x511 reads it byte after
// byte (past the end: 0); or the DMA interface (FW_CFG_ID bits 0 and 1): the guest writes
// the address of a FWCfgDmaAccess record to 0x514/0x518 and the device selects, reads,
// skips or writes as the record says, copying through guest memory it may reach
// (dma_window.h: shared pages only). Items: the ones a firmware asks for first
// (signature, ID, RAM size, CPU counts, the file directory and etc/e820). Every selection
// and every DMA request is reported (DeviceEvent), an unknown item by name. Layouts follow
// QEMU's docs/specs/fw_cfg.rst: docs/firmware.md restates them. Host side; engine-free.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event.h"
#include "core/guest_memory.h"
#include "dma_window.h"

namespace tdsim::devices {

inline constexpr uint16_t kFwCfgSelectorPort = 0x510;
inline constexpr uint16_t kFwCfgDataPort = 0x511;
inline constexpr uint16_t kFwCfgDmaPort = 0x514;  // 8 bytes: 0x514..0x51b
inline constexpr uint16_t kFwCfgDmaLowPort = 0x518;  // the low half of the address; writing it starts

// FWCfgDmaAccess.control (big-endian u32): what the device is asked, and after the
// transfer 0 or kDmaError. SELECT's item key is in bits 31:16.
inline constexpr uint32_t kDmaError = 1u << 0, kDmaRead = 1u << 1, kDmaSkip = 1u << 2, kDmaSelect = 1u << 3,
                          kDmaWrite = 1u << 4;
inline constexpr uint64_t kDmaRecordSize = 16;  // control u32, length u32, address u64

// What the machine looks like to its firmware.
struct MachineDesc {
  uint32_t nr_cpus = 1;
  std::vector<std::pair<uint64_t, uint64_t>> ram;  // [start, end) ranges of RAM
  uint64_t shared_bit = 0;  // the TD's shared GPA bit (stripped from DMA addresses)
};

class FwCfg {
 public:
  explicit FwCfg(const MachineDesc& machine);

  // A selector write (16 bits): the item and what the host sees of the request.
  Event select(uint32_t vcpu, uint16_t key);
  // The next `n` bytes of the selected item (zeros past its end).
  std::vector<uint8_t> read(size_t n);
  // A write of the DMA address registers (0x514: high half, 0x518: low half and go; 4
  // bytes each, big-endian on the bus, so `value` is the byte-swapped half). Any other
  // write is reported and ignored. The event says what the request did.
  Event dma_register_write(uint32_t vcpu, uint16_t port, uint32_t size, uint32_t value, GuestMemory* mem,
                           const DmaWindow& window);
  // What a read of 0x514 + `offset` (0..7) returns: the "QEMU CFG" signature's byte.
  static uint8_t dma_register_read(uint16_t offset);
  // One FWCfgDmaAccess at `record` (a GPA): done as QEMU does it, control written back.
  Event dma(uint32_t vcpu, uint64_t record, GuestMemory* mem, const DmaWindow& window);

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
  uint16_t selected_key_ = 0;
  size_t offset_ = 0;
  uint32_t dma_high_ = 0;  // the last write of 0x514
};

}  // namespace tdsim::devices
