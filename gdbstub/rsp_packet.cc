#include "rsp_packet.h"

#include <fmt/format.h>

#include <algorithm>

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

void RspReader::feed(std::string_view bytes) {
  // Drop what next() consumed once per feed, not once per item: erasing at the front
  // after every '+' of a long burst would move the rest of the buffer each time.
  if (pos_) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<RspItem> RspReader::next() {
  for (;;) {
    const std::string_view rest = std::string_view(buf_).substr(pos_);
    if (discarding_) {
      if (!hash_seen_) {
        const size_t hash = rest.find('#');
        pos_ = hash == std::string_view::npos ? buf_.size() : pos_ + hash + 1;
        if (hash == std::string_view::npos) return std::nullopt;
        hash_seen_ = true;
      }
      if (buf_.size() - pos_ < 2) return std::nullopt;
      pos_ += 2;
      discarding_ = hash_seen_ = false;
      return RspItem{RspItem::Kind::kOversized, {}};
    }
    if (rest.empty()) return std::nullopt;
    const char c = rest[0];
    if (c == '\x03' || c == '+' || c == '-') {
      ++pos_;
      if (c == '\x03') return RspItem{RspItem::Kind::kInterrupt, {}};
      return RspItem{c == '+' ? RspItem::Kind::kAck : RspItem::Kind::kNack, {}};
    }
    if (c != '$') {
      // Line noise: skip the whole run of it at once.
      const size_t next = rest.find_first_of(std::string_view("$+-\x03", 4));
      pos_ = next == std::string_view::npos ? buf_.size() : pos_ + next;
      continue;
    }
    // '#' cannot occur inside a payload (it is escaped), so the first one ends it. Only
    // the bytes not scanned on an earlier call are searched.
    const size_t hash = rest.find('#', std::max<size_t>(scanned_, 1));
    const size_t payload_len = (hash == std::string_view::npos ? rest.size() : hash) - 1;
    if (payload_len > kMaxPacketPayload) {
      pos_ += 1 + payload_len;  // up to its '#', or all there is
      scanned_ = 0;
      discarding_ = true;
      continue;
    }
    if (hash == std::string_view::npos || rest.size() < hash + 3) {
      scanned_ = hash == std::string_view::npos ? rest.size() : hash;
      return std::nullopt;
    }
    std::string payload(rest.substr(1, hash - 1));
    const auto sum = parse_hex_u64(rest.substr(hash + 1, 2));
    pos_ += hash + 3;
    scanned_ = 0;
    if (!sum || *sum != rsp_checksum(payload)) return RspItem{RspItem::Kind::kBadChecksum, {}};
    return RspItem{RspItem::Kind::kPacket, std::move(payload)};
  }
}

}  // namespace tdsim::gdbstub
