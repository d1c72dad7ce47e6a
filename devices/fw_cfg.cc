#include "fw_cfg.h"

#include <fmt/format.h>

#include <algorithm>

namespace tdsim::devices {

namespace {

void le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void be(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

constexpr uint32_t kFeatureTraditional = 1u << 0;  // FW_CFG_ID: port I/O interface
constexpr uint32_t kFeatureDma = 1u << 1;          // FW_CFG_ID: the DMA interface
constexpr char kDmaSignature[] = "QEMU CFG";       // what the DMA address registers read

uint32_t load_be(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}
uint32_t bswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}
constexpr size_t kFileNameLen = 56;
constexpr uint32_t kE820Ram = 1;

}  // namespace

FwCfg::FwCfg(const MachineDesc& m) {
  items_[kSignature] = {"signature", {'Q', 'E', 'M', 'U'}};
  std::vector<uint8_t> v;
  le(v, kFeatureTraditional | kFeatureDma, 4);
  items_[kId] = {"id", v};
  uint64_t ram = 0;
  for (auto [b, e] : m.ram) ram += e - b;
  v.clear();
  le(v, ram, 8);
  items_[kRamSize] = {"ram size", v};
  v.clear();
  le(v, m.nr_cpus, 2);
  items_[kNbCpus] = {"cpu count", v};
  items_[kMaxCpus] = {"max cpus", v};
  // etc/e820: packed {u64 address, u64 length, u32 type}, little-endian.
  v.clear();
  for (auto [b, e] : m.ram) {
    le(v, b, 8);
    le(v, e - b, 8);
    le(v, kE820Ram, 4);
  }
  add_file("etc/e820", v);
  // The directory: big-endian count, then per file {u32 size, u16 select, u16 0, name[56]}.
  std::vector<uint8_t> dir;
  be(dir, files_.size(), 4);
  for (const auto& [name, key] : files_) {
    be(dir, items_[key].bytes.size(), 4);
    be(dir, key, 2);
    be(dir, 0, 2);
    std::string n = name;
    n.resize(kFileNameLen, '\0');
    dir.insert(dir.end(), n.begin(), n.end());
  }
  items_[kFileDir] = {"file directory", dir};
}

void FwCfg::add_file(const std::string& name, std::vector<uint8_t> bytes) {
  const auto key = static_cast<uint16_t>(kFirstFile + files_.size());
  items_[key] = {name, std::move(bytes)};
  files_.emplace_back(name, key);
}

const std::vector<uint8_t>* FwCfg::item(uint16_t key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second.bytes;
}

Event FwCfg::select(uint32_t vcpu, uint16_t key) {
  offset_ = 0;
  selected_key_ = key;
  auto it = items_.find(key);
  selected_ = it == items_.end() ? nullptr : &it->second;
  if (!selected_)
    return DeviceEvent{vcpu, "fw_cfg", fmt::format("select {:#06x}: no such item (reads as zeros)", key)};
  return DeviceEvent{vcpu, "fw_cfg",
                     fmt::format("select {:#06x} ({}, {} bytes)", key, selected_->name, selected_->bytes.size())};
}

std::vector<uint8_t> FwCfg::read(size_t n) {
  std::vector<uint8_t> out(n, 0);
  if (selected_) {
    const size_t avail = offset_ < selected_->bytes.size() ? selected_->bytes.size() - offset_ : 0;
    const size_t take = std::min(n, avail);
    std::copy_n(selected_->bytes.begin() + static_cast<std::ptrdiff_t>(offset_), take, out.begin());
  }
  offset_ += n;
  return out;
}

Event FwCfg::dma_register_write(uint32_t vcpu, uint16_t port, uint32_t size, uint32_t value, GuestMemory* mem,
                                const DmaWindow& window) {
  if (size == 4 && port == kFwCfgDmaPort) {
    dma_high_ = bswap32(value);
    return DeviceEvent{vcpu, "fw_cfg", fmt::format("DMA address high half {:#x}", dma_high_)};
  }
  if (size == 4 && port == kFwCfgDmaLowPort) {
    const uint64_t record = (uint64_t{dma_high_} << 32) | bswap32(value);
    dma_high_ = 0;  // QEMU clears the high half once a transfer starts
    return dma(vcpu, record, mem, window);
  }
  return DeviceEvent{vcpu, "fw_cfg",
                     fmt::format("DMA register {:#x} written with size {} value {:#x}: only 4-byte writes of 0x514 "
                                 "and 0x518 are modelled; ignored",
                                 port, size, value)};
}

uint8_t FwCfg::dma_register_read(uint16_t offset) {
  return offset < 8 ? static_cast<uint8_t>(kDmaSignature[offset]) : 0xff;
}

Event FwCfg::dma(uint32_t vcpu, uint64_t record, GuestMemory* mem, const DmaWindow& window) {
  std::string what = fmt::format("DMA record at {:#x}", record);
  uint8_t rec[kDmaRecordSize];
  if (auto why = window.read(mem, record, rec, sizeof rec))
    return DeviceEvent{vcpu, "fw_cfg", fmt::format("{}: not done, the record is unreachable: {}", what, *why)};
  const uint32_t control = load_be(rec, 4);
  uint32_t length = load_be(rec + 4, 4);
  uint64_t address = (uint64_t{load_be(rec + 8, 4)} << 32) | load_be(rec + 12, 4);
  bool error = false;
  if (control & kDmaSelect) what += ": " + std::get<DeviceEvent>(select(vcpu, static_cast<uint16_t>(control >> 16))).request;
  const Item* item = selected_;
  // QEMU's order: READ wins over WRITE over SKIP; none of them is an empty transfer.
  const bool read = (control & kDmaRead) != 0;
  const bool write = !read && (control & kDmaWrite) != 0;
  const bool skip = !read && !write && (control & kDmaSkip) != 0;
  if (!read && !write && !skip) length = 0;
  const char* verb = read ? "read" : write ? "write" : "skip";
  if (length) what += fmt::format(", {} {} bytes at {:#x}", verb, length, address);
  const size_t avail = item && offset_ < item->bytes.size() ? item->bytes.size() - offset_ : 0;
  const uint32_t from_item = static_cast<uint32_t>(std::min<uint64_t>(length, avail));
  if (write) {
    // No item here is writable (QEMU allows it for a few files the firmware does not need).
    what += fmt::format(": item {:#06x} is not writable", selected_key_);
    error = true;
  } else if (read && length) {
    // The item's bytes, then zeros past its end, as QEMU fills the buffer.
    std::vector<uint8_t> buf(length, 0);
    if (from_item) std::copy_n(item->bytes.begin() + static_cast<std::ptrdiff_t>(offset_), from_item, buf.begin());
    if (auto why = window.write(mem, address, buf.data(), buf.size())) {
      what += ": buffer refused: " + *why;
      error = true;
    } else {
      offset_ += from_item;
      if (from_item < length) what += fmt::format(" ({} past the item's end, zero-filled)", length - from_item);
    }
  } else if (skip) {
    offset_ += from_item;
  }
  // QEMU writes back the control word only: 0, or ERROR.
  const uint32_t done = error ? kDmaError : 0;
  const uint8_t be_done[4] = {static_cast<uint8_t>(done >> 24), static_cast<uint8_t>(done >> 16),
                              static_cast<uint8_t>(done >> 8), static_cast<uint8_t>(done)};
  if (auto why = window.write(mem, record, be_done, sizeof be_done))
    what += ": control not written back: " + *why;
  what += error ? "; control = ERROR" : "; done";
  return DeviceEvent{vcpu, "fw_cfg", std::move(what)};
}

}  // namespace tdsim::devices
