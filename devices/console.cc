#include "console.h"

namespace tdsim::devices {

std::optional<Event> LineConsole::put(uint32_t vcpu, uint16_t port, uint8_t byte) {
  Pending& p = lines_[port];
  p.vcpu = vcpu;
  if (byte == '\r') return std::nullopt;
  if (byte != '\n') {
    p.text.push_back(static_cast<char>(byte));
    if (p.text.size() < kMaxLine) return std::nullopt;
  }
  ConsoleEvent e{vcpu, port, std::move(p.text)};
  p.text.clear();
  return e;
}

std::vector<Event> LineConsole::flush() {
  std::vector<Event> out;
  for (auto& [port, p] : lines_) {
    if (!p.text.empty()) out.push_back(ConsoleEvent{p.vcpu, port, std::move(p.text)});
    p.text.clear();
  }
  return out;
}

uint8_t uart_read(uint16_t offset) {
  switch (offset) {
    case 2: return 0x01;  // IIR: no interrupt pending
    case 5: return kUartLsrTransmitterEmpty;
    default: return 0;
  }
}

}  // namespace tdsim::devices
