#include "text_escape.h"

namespace tdsim {

namespace {

constexpr char kHex[] = "0123456789abcdef";

bool printable(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is never written, so never read: one spelling per byte
}

}  // namespace

std::string escape_text(std::string_view raw, char also) {
  std::string out;
  out.reserve(raw.size());
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (printable(c) && (also == '\0' || ch != also)) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::optional<std::string> unescape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (!printable(static_cast<unsigned char>(s[i]))) return std::nullopt;
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
      continue;
    }
    if (i + 3 >= s.size() || s[i + 1] != 'x') return std::nullopt;  // needs "\xHH" in full
    const int hi = hex_value(s[i + 2]), lo = hex_value(s[i + 3]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 3;
  }
  return out;
}

}  // namespace tdsim
