// RSP framing: checksums, escapes, hex and the incremental reader.
#include "gdbstub/rsp_packet.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "gdbstub/gdb_server.h"

namespace tdsim::gdbstub {
namespace {

TEST(RspPacket, ChecksumIsModulo256Sum) {
  EXPECT_EQ(rsp_checksum(""), 0);
  EXPECT_EQ(rsp_checksum("OK"), 0x9a);
  EXPECT_EQ(rsp_checksum(std::string(3, '\xff')), 0xfd);
}

TEST(RspPacket, FrameAddsDollarHashAndLowercaseChecksum) {
  EXPECT_EQ(frame_packet("OK"), "$OK#9a");
  EXPECT_EQ(frame_packet(""), "$#00");
  EXPECT_EQ(frame_packet("T05thread:01;"), "$T05thread:01;#07");
}

TEST(RspPacket, FrameEscapesReservedBytesAndChecksumsTheEscapedBody) {
  const std::string f = frame_packet("a#b$c}d*");
  EXPECT_EQ(f.substr(0, f.size() - 3), "$a}\x03" "b}\x04" "c}]d}\x0a");
  EXPECT_EQ(f.substr(f.size() - 2), fmt::format("{:02x}", rsp_checksum(f.substr(1, f.size() - 4))));
}

TEST(RspPacket, UnescapeInvertsEscapeForEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string esc = rsp_escape(all);
  EXPECT_EQ(esc.size(), 256u + 4u);
  EXPECT_EQ(rsp_unescape(esc), all);
  EXPECT_EQ(rsp_unescape("ab}"), std::nullopt);
}

TEST(RspPacket, HexRoundTripAndRejectsBadInput) {
  const uint8_t b[] = {0x00, 0xab, 0xff};
  EXPECT_EQ(to_hex(b, 3), "00abff");
  EXPECT_EQ(from_hex("00ABff"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_EQ(from_hex("0"), std::nullopt);
  EXPECT_EQ(from_hex("0g"), std::nullopt);
  EXPECT_EQ(parse_hex_u64("fffffff0"), 0xfffffff0u);
  EXPECT_EQ(parse_hex_u64("ffffffffffffffff"), ~0ull);
  EXPECT_EQ(parse_hex_u64("10000000000000000"), std::nullopt);
  EXPECT_EQ(parse_hex_u64(""), std::nullopt);
  EXPECT_EQ(parse_hex_u64("-1"), std::nullopt);
}

TEST(RspPacket, ReaderSplitsAcksPacketsAndInterruptFedByteByByte) {
  RspReader r;
  const std::string wire = "+$g#67\x03-junk" + frame_packet("m10,4");
  std::vector<RspItem> items;
  for (char c : wire) {
    r.feed(std::string_view(&c, 1));
    while (auto it = r.next()) items.push_back(*it);
  }
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].kind, RspItem::Kind::kAck);
  EXPECT_EQ(items[1].kind, RspItem::Kind::kPacket);
  EXPECT_EQ(items[1].payload, "g");
  EXPECT_EQ(items[2].kind, RspItem::Kind::kInterrupt);
  EXPECT_EQ(items[3].kind, RspItem::Kind::kNack);
  EXPECT_EQ(items[4].kind, RspItem::Kind::kPacket);
  EXPECT_EQ(items[4].payload, "m10,4");
}

TEST(RspPacket, ReaderReportsBadChecksumAndWaitsForIncompletePackets) {
  RspReader r;
  r.feed("$g#00$m0,1");
  auto it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kBadChecksum);
  EXPECT_FALSE(r.next());  // "$m0,1" has no checksum yet
  r.feed("#");
  EXPECT_FALSE(r.next());
  r.feed(fmt::format("{:02x}", rsp_checksum("m0,1")));
  it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kPacket);
  EXPECT_EQ(it->payload, "m0,1");
}

// Every way of cutting one stream into reads gives the same items.
TEST(RspPacket, ReaderGivesTheSameItemsHoweverTheStreamIsSplit) {
  const std::string wire = "xx+" + frame_packet("qSupported:swbreak+") + "\x03$g#00noise-" + frame_packet("m10,4");
  auto items_of = [](const std::string& w, size_t cut) {
    RspReader r;
    std::vector<std::pair<RspItem::Kind, std::string>> out;
    for (size_t at = 0; at < w.size(); at += cut) {
      r.feed(std::string_view(w).substr(at, cut));
      while (auto it = r.next()) out.emplace_back(it->kind, it->payload);
    }
    return out;
  };
  const auto whole = items_of(wire, wire.size());
  ASSERT_EQ(whole.size(), 6u);
  for (size_t cut = 1; cut < wire.size(); ++cut) EXPECT_EQ(items_of(wire, cut), whole) << cut;
}

// A packet longer than the PacketSize we advertise is dropped as it arrives: the reader
// never holds more than one packet plus one read, reports it once, and the stream after
// it parses normally.
TEST(RspPacket, ReaderDropsAnOversizedPacketAndStaysBounded) {
  RspReader r;
  r.feed("$");
  const std::string chunk(4096, 'a');
  size_t most = 0;
  for (int i = 0; i < 16 * 1024; ++i) {  // 64 MiB, no '#'
    r.feed(chunk);
    EXPECT_FALSE(r.next());
    most = std::max(most, r.buffered());
  }
  EXPECT_LE(most, kMaxPacketPayload + 1 + chunk.size());
  r.feed("#4");
  EXPECT_FALSE(r.next());  // the checksum is not complete yet
  r.feed("2+" + frame_packet("g"));
  auto it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kOversized);
  it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kAck);
  it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kPacket);
  EXPECT_EQ(it->payload, "g");
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(RspPacket, ReaderAcceptsAPacketOfExactlyTheAdvertisedSize) {
  const std::string big(kMaxPacketPayload, 'M');
  RspReader r;
  r.feed(frame_packet(big) + frame_packet(big + "M"));
  auto it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kPacket);
  EXPECT_EQ(it->payload.size(), kMaxPacketPayload);
  it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->kind, RspItem::Kind::kOversized);
  EXPECT_FALSE(r.next());
}

// Line noise is skipped in one pass, not byte by byte with a shift of the rest.
TEST(RspPacket, ReaderSkipsLongNoiseAndKeepsNothingOfIt) {
  RspReader r;
  r.feed(std::string(8 << 20, 'z'));
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.buffered(), 0u);
  r.feed(frame_packet("?"));
  auto it = r.next();
  ASSERT_TRUE(it);
  EXPECT_EQ(it->payload, "?");
}

TEST(GdbEndpoint, AcceptsLoopbackOnly) {
  std::string why;
  EXPECT_EQ(parse_loopback_endpoint("127.0.0.1:0", &why), 0);
  EXPECT_EQ(parse_loopback_endpoint("localhost:1234", &why), 1234);
  EXPECT_EQ(parse_loopback_endpoint("127.0.0.1:65535", &why), 65535);
  for (const char* bad : {"0.0.0.0:1234", "192.168.1.2:1234", "example.com:1", "1234", "127.0.0.1:",
                          "127.0.0.1:65536", "127.0.0.1:12a", ":1234"}) {
    why.clear();
    EXPECT_EQ(parse_loopback_endpoint(bad, &why), std::nullopt) << bad;
    EXPECT_NE(why.find(bad), std::string::npos) << why;
  }
  parse_loopback_endpoint("0.0.0.0:1234", &why);
  EXPECT_NE(why.find("loopback"), std::string::npos) << why;
}

}  // namespace
}  // namespace tdsim::gdbstub
