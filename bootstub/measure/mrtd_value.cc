// Mrtd as text and as read back from a TDREPORT.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "mrtd.h"

namespace tdsim::measure {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Mrtd::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * digest.size());
  for (uint8_t b : digest) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

Mrtd Mrtd::from_hex(std::string_view hex) {
  Mrtd m;
  if (hex.size() != 2 * m.digest.size())
    throw std::invalid_argument(
        fmt::format("MRTD hex: {} characters, expected 96 (48-byte SHA-384)", hex.size()));
  for (size_t i = 0; i < m.digest.size(); ++i) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      throw std::invalid_argument(
          fmt::format("MRTD hex: non-hex character at position {}", hi < 0 ? 2 * i : 2 * i + 1));
    m.digest[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return m;
}

Mrtd Mrtd::from_tdreport(std::span<const uint8_t> report) {
  if (report.size() < kTdReportSize)
    throw std::invalid_argument(fmt::format(
        "TDREPORT: {} bytes, expected {} (MRTD is at byte {})", report.size(), kTdReportSize,
        kTdReportMrtdOffset));
  Mrtd m;
  std::copy_n(report.begin() + kTdReportMrtdOffset, m.digest.size(), m.digest.begin());
  return m;
}

}  // namespace tdsim::measure
