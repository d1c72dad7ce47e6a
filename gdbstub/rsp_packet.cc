#include "rsp_packet.h"

#include <fmt/format.h>

namespace tdsim::gdbstub {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool reserved(char c) { return c == '#' || c == '$' || c == '}' || c == '*'; }

}  // namespace

uint8_t rsp_checksum(std::string_view payload) {
  uint8_t sum = 0;
  for (char c : payload) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return sum;
}

std::string rsp_escape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (reserved(c)) {
      out.push_back('}');
      out.push_back(static_cast<char>(c ^ 0x20));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> rsp_unescape(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '}') {
      out.push_back(escaped[i]);
      continue;
    }
    if (++i == escaped.size()) return std::nullopt;
    out.push_back(static_cast<char>(escaped[i] ^ 0x20));
  }
  return out;
}

std::string frame_packet(std::string_view payload) {
  const std::string body = rsp_escape(payload);
  return fmt::format("${}#{:02x}", body, rsp_checksum(body));
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  return to_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::optional<std::vector<uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<uint64_t> parse_hex_u64(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : hex) {
    const int d = hex_value(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::optional<RspItem> RspReader::next() {
  while (!buf_.empty()) {
    const char c = buf_[0];
    if (c == '\x03' || c == '+' || c == '-') {
      buf_.erase(0, 1);
      if (c == '\x03') return RspItem{RspItem::Kind::kInterrupt, {}};
      return RspItem{c == '+' ? RspItem::Kind::kAck : RspItem::Kind::kNack, {}};
    }
    if (c != '$') {
      buf_.erase(0, 1);
      continue;
    }
    // '#' cannot occur inside a payload (it is escaped), so the first one ends it.
    const size_t hash = buf_.find('#');
    if (hash == std::string::npos || buf_.size() < hash + 3) return std::nullopt;
    std::string payload = buf_.substr(1, hash - 1);
    const auto sum = parse_hex_u64(std::string_view(buf_).substr(hash + 1, 2));
    buf_.erase(0, hash + 3);
    if (!sum || *sum != rsp_checksum(payload)) return RspItem{RspItem::Kind::kBadChecksum, {}};
    return RspItem{RspItem::Kind::kPacket, std::move(payload)};
  }
  return std::nullopt;
}

}  // namespace tdsim::gdbstub
