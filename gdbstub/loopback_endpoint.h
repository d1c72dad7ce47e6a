// The address a gdb stub may listen on: loopback only, since the remote protocol has no
// authentication and reads and writes the TD's memory. Parsed apart from the server so
// option parsing (`tdsim run --gdb`, `tdsim exec --gdb`, the preload's options) needs
// no socket or run control.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tdsim::gdbstub {

// "127.0.0.1:PORT" or "localhost:PORT" (PORT 0..65535, 0 = pick a free port) -> PORT.
// Anything else (another host, no port, a bad number) -> nullopt and `why` says what.
std::optional<uint16_t> parse_loopback_endpoint(std::string_view text, std::string* why);

}  // namespace tdsim::gdbstub
