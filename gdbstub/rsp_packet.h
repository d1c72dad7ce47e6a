// GDB remote serial protocol framing: checksums, '$payload#cs' packets, binary escapes,
// hex encoding, and a byte-stream reader that splits what gdb sends into packets, acks
// and the Ctrl-C interrupt byte. Pure: no sockets, no engine, no simulator.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tdsim::gdbstub {

// Modulo-256 sum of the bytes between '$' and '#'.
uint8_t rsp_checksum(std::string_view payload);

// '$' + payload (with '#', '$', '}' and '*' escaped) + '#' + two lowercase hex digits.
std::string frame_packet(std::string_view payload);

// '}' followed by (byte ^ 0x20) for the four bytes the framing reserves.
std::string rsp_escape(std::string_view raw);
// Inverse of rsp_escape; nullopt for a dangling '}' at the end.
std::optional<std::string> rsp_unescape(std::string_view escaped);

std::string to_hex(const uint8_t* bytes, size_t n);
std::string to_hex(std::string_view bytes);
// Pairs of hex digits to bytes; nullopt for odd length or a non-hex digit.
std::optional<std::vector<uint8_t>> from_hex(std::string_view hex);
// A whole hex number (no prefix, 1..16 digits); nullopt otherwise.
std::optional<uint64_t> parse_hex_u64(std::string_view hex);

// What arrived from gdb, one item at a time.
struct RspItem {
  enum class Kind { kPacket, kBadChecksum, kInterrupt, kAck, kNack };
  Kind kind;
  std::string payload;  // kPacket: the bytes between '$' and '#', still escaped
};

// Incremental: feed() whatever recv() returned, then next() until it yields nothing.
// Bytes outside a packet other than '+', '-' and 0x03 are line noise and dropped.
class RspReader {
 public:
  void feed(std::string_view bytes) { buf_.append(bytes); }
  std::optional<RspItem> next();

 private:
  std::string buf_;
};

}  // namespace tdsim::gdbstub
