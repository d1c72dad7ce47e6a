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

constexpr uint32_t kFeatureTraditional = 1u << 0;  // FW_CFG_ID: port I/O interface, no DMA
constexpr size_t kFileNameLen = 56;
constexpr uint32_t kE820Ram = 1;

}  // namespace

FwCfg::FwCfg(const MachineDesc& m) {
  items_[kSignature] = {"signature", {'Q', 'E', 'M', 'U'}};
  std::vector<uint8_t> v;
  le(v, kFeatureTraditional, 4);
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

Event FwCfg::dma_access(uint32_t vcpu, uint16_t port, bool is_out) const {
  return DeviceEvent{vcpu, "fw_cfg",
                     fmt::format("DMA register {:#x} {}: the DMA interface is not offered (FW_CFG_ID bit 1 clear); "
                                 "ignored",
                                 port, is_out ? "written" : "read (all-ones)")};
}

}  // namespace tdsim::devices
