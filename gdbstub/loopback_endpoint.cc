#include "loopback_endpoint.h"

#include <fmt/format.h>

#include <charconv>

namespace tdsim::gdbstub {

std::optional<uint16_t> parse_loopback_endpoint(std::string_view text, std::string* why) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    *why = fmt::format("'{}' is not HOST:PORT", text);
    return std::nullopt;
  }
  const std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host != "127.0.0.1" && host != "localhost") {
    *why = fmt::format("'{}': only 127.0.0.1 (loopback) is allowed, not '{}'", text, host);
    return std::nullopt;
  }
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535) {
    *why = fmt::format("'{}': port '{}' is not a number in [0, 65535]", text, port);
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

}  // namespace tdsim::gdbstub
