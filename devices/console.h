// Console ports a firmware writes its log to: QEMU's debug console (one port, by
// default 0x402, that reads back 0xe9 so the firmware knows it is there) and a 16550
// UART's transmit path (COM1 at 0x3f8: THR takes a byte, LSR always says the
// transmitter is empty; no receive, no interrupts). Bytes are gathered into lines, each
// finished line a ConsoleEvent. Host side; engine-free.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/event.h"

namespace tdsim::devices {

// Bytes written to console ports, one pending line per port.
class LineConsole {
 public:
  // Appends `byte`; the finished line(s) as an event when `byte` ends one (or the line
  // outgrew kMaxLine). Carriage returns are dropped.
  std::optional<Event> put(uint32_t vcpu, uint16_t port, uint8_t byte);
  // What is left unfinished on every port, as events (the run has ended).
  std::vector<Event> flush();
  static constexpr size_t kMaxLine = 1024;

 private:
  struct Pending {
    uint32_t vcpu = 0;
    std::string text;
  };
  std::map<uint16_t, Pending> lines_;
};

inline constexpr uint16_t kDebugConsolePort = 0x402;
inline constexpr uint8_t kDebugConsoleReadback = 0xe9;  // QEMU's debugcon answers this
inline constexpr uint16_t kCom1Base = 0x3f8;
inline constexpr uint16_t kUartPorts = 8;
inline constexpr uint8_t kUartLsrTransmitterEmpty = 0x60;  // THRE | TEMT

// A 16550 register read at `offset` 0..7 (LSR: transmitter empty; IIR: no interrupt
// pending; the rest 0).
uint8_t uart_read(uint16_t offset);

}  // namespace tdsim::devices
