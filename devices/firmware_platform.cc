#include "firmware_platform.h"

#include <fmt/format.h>

namespace tdsim::devices {

namespace {

uint64_t load_le(const std::vector<uint8_t>& d, size_t at, uint32_t size) {
  uint64_t v = 0;
  for (uint32_t b = 0; b < size && at + b < d.size(); ++b) v |= uint64_t{d[at + b]} << (8 * b);
  return v;
}

void store_le(std::vector<uint8_t>& d, uint64_t v, uint32_t size) {
  for (uint32_t b = 0; b < size; ++b) d.push_back(static_cast<uint8_t>(v >> (8 * b)));
}

// Several events from one exit (a REP OUTS of a whole line, say) become one: the
// console's lines joined; otherwise the first with a count of the rest.
std::optional<Event> merge(std::vector<Event> events) {
  if (events.empty()) return std::nullopt;
  if (events.size() == 1) return std::move(events.front());
  bool all_console = true;
  for (const Event& e : events) all_console = all_console && std::holds_alternative<ConsoleEvent>(e);
  if (all_console) {
    ConsoleEvent c = std::get<ConsoleEvent>(events.front());
    for (size_t i = 1; i < events.size(); ++i) c.text += "\n" + std::get<ConsoleEvent>(events[i]).text;
    return c;
  }
  if (auto* d = std::get_if<DeviceEvent>(&events.front()))
    d->request += fmt::format(" (and {} more accesses in this string I/O)", events.size() - 1);
  return std::move(events.front());
}

}  // namespace

FirmwarePlatform::FirmwarePlatform(const MachineDesc& machine) : fw_cfg_(machine), dma_(machine.shared_bit) {
  pci_.add(kQ35HostBridgeBdf, q35_host_bridge());
  pci_.add(kIch9LpcBdf, ich9_lpc());
}

tdx::PortReply FirmwarePlatform::one(uint32_t vcpu, uint16_t port, uint32_t size, bool is_out, uint64_t value,
                                     GuestMemory* memory) {
  tdx::PortReply r;
  const uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
  auto answer = [&](uint64_t v) {
    if (!is_out) store_le(r.in_data, v, size);
  };
  if (port == kDebugConsolePort) {
    if (is_out) {
      r.event = console_.put(vcpu, port, static_cast<uint8_t>(value));
    } else {
      answer(kDebugConsoleReadback);
    }
    return r;
  }
  if (port >= kCom1Base && port < kCom1Base + kUartPorts) {
    const auto off = static_cast<uint16_t>(port - kCom1Base);
    if (is_out) {
      if (off == 0) r.event = console_.put(vcpu, kCom1Base, static_cast<uint8_t>(value));
    } else {
      answer(uart_read(off));
    }
    return r;
  }
  if (port == kFwCfgSelectorPort && size == 2 && is_out) {
    r.event = fw_cfg_.select(vcpu, static_cast<uint16_t>(value));
    return r;
  }
  if (port == kFwCfgDataPort && !is_out) {
    r.in_data = fw_cfg_.read(size);
    return r;
  }
  if (port >= kFwCfgDmaPort && port < kFwCfgDmaPort + 8) {
    if (is_out) {
      r.event = fw_cfg_.dma_register_write(vcpu, port, size, static_cast<uint32_t>(value), memory, dma_);
    } else {
      // The signature, byte by byte from the port on (how a firmware checks for DMA);
      // not an event: nothing is asked of the device.
      for (uint32_t b = 0; b < size; ++b)
        r.in_data.push_back(FwCfg::dma_register_read(static_cast<uint16_t>(port - kFwCfgDmaPort + b)));
    }
    return r;
  }
  if (port == kPciConfigAddressPort) {
    if (is_out ? pci_.address_write(size, static_cast<uint32_t>(value)) : false) return r;
    if (!is_out) {
      if (auto a = pci_.address_read(size)) {
        answer(*a);
        return r;
      }
    }
  }
  if (port >= kPciConfigDataPort && port < kPciConfigDataPort + 4) {
    PciConfig::DataAccess a =
        pci_.data_access(vcpu, static_cast<uint16_t>(port - kPciConfigDataPort), size, is_out, value);
    r.event = std::move(a.event);
    answer(a.value);
    return r;
  }
  // The PM timer: read in every delay loop, so its reads are not events (like the
  // UART's status register's).
  if (const PciFunction* lpc = pci_.function(kIch9LpcBdf); lpc && !is_out && size == 4) {
    if (auto timer = ich9_pm_timer_port(*lpc); timer && port == *timer) {
      answer(pm_timer_.read());
      return r;
    }
  }
  r.event = DeviceEvent{vcpu, "port",
                        is_out ? fmt::format("write {:#06x} size {} value {:#x}: no device modelled", port, size, value)
                               : fmt::format("read {:#06x} size {}: no device modelled (all-ones)", port, size)};
  answer(ones);
  return r;
}

std::optional<tdx::PortReply> FirmwarePlatform::access(const tdx::PortRequest& req) {
  std::lock_guard<std::mutex> g(lock_);
  tdx::PortReply all;
  std::vector<Event> events;
  for (uint32_t i = 0; i < req.count; ++i) {
    const uint64_t value = req.is_out && req.data ? load_le(*req.data, size_t{i} * req.size, req.size) : 0;
    tdx::PortReply r = one(req.vcpu, req.port, req.size, req.is_out, value, req.memory);
    all.in_data.insert(all.in_data.end(), r.in_data.begin(), r.in_data.end());
    if (r.event) events.push_back(std::move(*r.event));
  }
  all.event = merge(std::move(events));
  return all;
}

void FirmwarePlatform::convert(uint64_t gpa, uint64_t size, bool shared) {
  std::lock_guard<std::mutex> g(lock_);
  dma_.convert(gpa, size, shared);
}

std::vector<Event> FirmwarePlatform::flush() {
  std::lock_guard<std::mutex> g(lock_);
  return console_.flush();
}

}  // namespace tdsim::devices
