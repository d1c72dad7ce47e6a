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

// The largest payload accepted; advertised to gdb in qSupported as PacketSize (which
// gdb reads as hex: PacketSize=4000 is 16 KiB).
inline constexpr size_t kMaxPacketPayload = 0x4000;

// What arrived from gdb, one item at a time.
struct RspItem {
  // kOversized: a '$' packet whose payload ran past kMaxPacketPayload; its bytes were
  // dropped up to and including its '#xx' (the server NAKs it).
  enum class Kind { kPacket, kBadChecksum, kInterrupt, kAck, kNack, kOversized };
  Kind kind;
  std::string payload;  // kPacket: the bytes between '$' and '#', still escaped
};

// Incremental: feed() whatever recv() returned, then next() until it yields nothing.
// Bytes outside a packet other than '+', '-' and 0x03 are line noise and dropped.
// Memory stays bounded: at most one packet's payload (kMaxPacketPayload) plus the last
// feed() is held, and each byte is scanned once, however the stream is cut into reads.
class RspReader {
 public:
  void feed(std::string_view bytes);
  std::optional<RspItem> next();
  // Bytes held for the next item, for tests of the bound.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;          // first byte not yet consumed
  size_t scanned_ = 0;      // in a '$' packet starting at pos_: bytes from pos_ known to hold no '#'
  bool discarding_ = false; // inside an oversized packet: drop up to '#'
  bool hash_seen_ = false;  // discarding, '#' seen: drop the two checksum digits too
};

}  // namespace tdsim::gdbstub
