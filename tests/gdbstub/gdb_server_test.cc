// GdbServer over a real loopback socket with a scripted RSP client (no gdb needed):
// the protocol answers, Ctrl-C, the exit reply, and that a vanished client never hangs.
#include "gdbstub/gdb_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/outcome.h"
#include "gdbstub/x86_regs.h"
#include "rsp_client.h"
#include "sim/sim_debug_target.h"
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

struct Served {
  TdImage image;
  sim::Session session;
  sim::SimDebugTarget target{session};
  GdbServer server{0};
  std::vector<Event> events;
  std::thread thread;
  Served(const char* elf, RunLimits limits)
      : image(test::image_for(elf)), session(image),
        thread([this, limits] { server.serve(target, limits, [this](const Event& e) { events.push_back(e); },
                                            std::chrono::seconds(60)); }) {}
  ~Served() {
    if (thread.joinable()) thread.join();
  }
};

// The whole target description, read in chunks of `chunk` bytes as gdb does.
std::string read_target_xml(Client& c, size_t chunk) {
  std::string xml;
  for (;;) {
    const std::string r = c.ask(fmt::format("qXfer:features:read:target.xml:{:x},{:x}", xml.size(), chunk));
    if (r.empty() || (r[0] != 'm' && r[0] != 'l')) return "<bad reply " + r + ">";
    xml += r.substr(1);
    if (r[0] == 'l') return xml;
  }
}

TEST(GdbServer, AnswersStopRegistersMemoryAndRunsToExitReply) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  const std::string features = c.ask("qSupported:swbreak+;vContSupported+");
  EXPECT_NE(features.find("swbreak+"), std::string::npos);
  EXPECT_NE(features.find("qXfer:features:read+"), std::string::npos);
  EXPECT_EQ(c.ask("?"), "T05thread:01;");
  EXPECT_EQ(c.ask("qfThreadInfo"), "m1");
  // At the reset vector the vCPU runs 32-bit code: the i386 description and layout.
  const std::string xml32 = read_target_xml(c, 0x100);
  EXPECT_NE(xml32.find("<architecture>i386</architecture>"), std::string::npos) << xml32;
  EXPECT_NE(xml32.find("<reg name=\"eip\" bitsize=\"32\""), std::string::npos) << xml32;
  EXPECT_NE(xml32.find("<feature name=\"org.tdsim.x86.control\">"), std::string::npos) << xml32;
  const std::string g = c.ask("g");
  ASSERT_EQ(g.size(), 2 * g_packet_bytes(Layout::kI386));
  EXPECT_EQ(g.substr(2 * g_offset(Layout::kI386, 8), 8), "f0ffffff");
  EXPECT_EQ(c.ask("mfffffff0,1"), "eb");
  EXPECT_EQ(c.ask("p8"), "f0ffffff");
  EXPECT_EQ(c.ask("p2d"), "0109000000000000");  // efer, last register: the TD's 0x901
  EXPECT_EQ(c.ask("p2e"), "");                  // beyond the file: declined
  EXPECT_EQ(c.ask(fmt::format("Z0,{:x},1", s.image.guest_entry)), "OK");
  EXPECT_EQ(c.ask("vCont;c"), "T05swbreak:;thread:1;");
  // gdb keeps the description it has until it asks again; then it gets amd64.
  EXPECT_EQ(c.ask("p8"), fmt::format("{:08x}", __builtin_bswap32(static_cast<uint32_t>(s.image.guest_entry))));
  const std::string xml64 = read_target_xml(c, 0x4000);
  EXPECT_NE(xml64.find("<architecture>i386:x86-64</architecture>"), std::string::npos) << xml64;
  EXPECT_EQ(c.ask("p10"), fmt::format("{:016x}", __builtin_bswap64(s.image.guest_entry)));
  EXPECT_EQ(c.ask("g").size(), 2 * g_packet_bytes(Layout::kAmd64));
  const auto cr = from_hex(c.ask("qRcmd," + to_hex("cr")));
  ASSERT_TRUE(cr);
  EXPECT_NE(std::string(cr->begin(), cr->end()).find("64-bit (long mode); gdb's description: i386:x86-64"),
            std::string::npos);
  EXPECT_EQ(c.ask("vCont;s:1"), "T05thread:1;");
  EXPECT_EQ(c.ask("c"), "W00");
  s.thread.join();
  EXPECT_EQ(classify(s.events, 1), Outcome::kDone);
}

// Z2/Z3/Z4 stop after the accessing instruction with the watchpoint's kind and address.
TEST(GdbServer, WatchpointsStopWithTheirKindAndAddress) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  // The stub reads the boot parameters' CR3 field in its 32-bit part.
  EXPECT_EQ(c.ask("Z3,ffff0004,4"), "OK");
  EXPECT_EQ(c.ask("c"), "T05rwatch:ffff0004;thread:1;");
  EXPECT_EQ(c.ask("z3,ffff0004,4"), "OK");
  EXPECT_EQ(c.ask("z3,ffff0004,4"), "E01");  // not set any more
  // The guest writes its ucall slot (the pool's first slot) to make a ucall.
  const uint64_t pool = s.image.ucall_pool_gpa;  // identity mapped
  EXPECT_EQ(c.ask(fmt::format("Z2,{:x},8", pool)), "OK");
  EXPECT_EQ(c.ask("c"), fmt::format("T05watch:{:x};thread:1;", pool));
  EXPECT_EQ(c.ask(fmt::format("z2,{:x},8", pool)), "OK");
  EXPECT_EQ(c.ask(fmt::format("Z4,{:x},8", pool)), "OK");
  EXPECT_EQ(c.ask("c"), fmt::format("T05awatch:{:x};thread:1;", pool));
  EXPECT_EQ(c.ask("Z2,1000,0"), "E01");  // a zero length
  c.send("D");
  EXPECT_EQ(c.reply(), "OK");
  s.thread.join();  // detached: runs to the end with the watchpoints gone
  EXPECT_EQ(classify(s.events, 1), Outcome::kDone);
}

// qOffsets comes only from a gdb with a symbol file: it has rejected the i386
// description (an x86-64 ELF), so 'g' is gdb's built-in amd64 file, and later
// descriptions are amd64 whatever the mode.
TEST(GdbServer, AGdbWithAnElfGetsAmd64Registers) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  EXPECT_NE(read_target_xml(c, 0x1000).find("<architecture>i386</architecture>"), std::string::npos);
  EXPECT_EQ(c.ask("qOffsets"), "");
  EXPECT_EQ(c.ask("g").size(), 2 * 536u);
  EXPECT_EQ(c.ask("p10"), "f0ffffff00000000");
  EXPECT_EQ(c.ask("p39"), "");  // orig_rax, fs_base...: not in gdb's built-in file here
  EXPECT_NE(read_target_xml(c, 0x1000).find("<architecture>i386:x86-64</architecture>"), std::string::npos);
  EXPECT_EQ(c.ask("g").size(), 2 * g_packet_bytes(Layout::kAmd64));
  EXPECT_EQ(c.ask("p3f"), "0109000000000000");  // efer
  c.send("k");
  s.thread.join();
  EXPECT_TRUE(s.events.empty());
}

TEST(GdbServer, CtrlCStopsARunningGuestWithSigint) {
  // The budget is far beyond what the guest runs before the interrupt is seen.
  Served s(TDSIM_GUEST_LOOP_FOREVER_ELF, RunLimits{1'000'000'000, std::chrono::seconds(60)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  c.send("c");
  c.send_raw("\x03");
  EXPECT_EQ(c.reply(), "T02thread:1;");
  EXPECT_FALSE(s.session.vcpu(0).stopped());
  // Again, via vCont, after the guest has been stopped once.
  c.send("vCont;c");
  c.send_raw("\x03");
  EXPECT_EQ(c.reply(), "T02thread:1;");
  c.send("k");  // ends the run where it is
  s.thread.join();
  for (const Event& e : s.events) EXPECT_FALSE(std::holds_alternative<BudgetExceededEvent>(e));
}

TEST(GdbServer, ClientVanishingLetsTheRunFinishUnderItsBudget) {
  Served s(TDSIM_GUEST_LOOP_FOREVER_ELF, RunLimits{2'000'000, std::chrono::seconds(30)});
  {
    Client c(s.server.port());
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.ask("?"), "T05thread:01;");
  }
  s.thread.join();
  EXPECT_EQ(classify(s.events, 1), Outcome::kBudget);
}

TEST(GdbServer, MalformedPacketsAreRefusedAndNothingRuns) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  c.send_raw("$s#00");
  EXPECT_EQ(c.ask("?"), "T05thread:01;");
  EXPECT_EQ(c.ask(""), "");  // an empty packet is an unknown command, nothing worse
  EXPECT_EQ(c.ask("p100000000"), "");  // no register number wraps around to eax
  EXPECT_EQ(c.ask("P100000008=00000000"), "E01");
  EXPECT_EQ(c.ask("p8"), "f0ffffff");  // the corrupted step did not run
  c.send("k");
  s.thread.join();
  EXPECT_TRUE(s.events.empty());
}

// A packet longer than the PacketSize the server advertises is NAKed without being kept,
// and the conversation goes on (issue 13, class 10).
TEST(GdbServer, OversizedPacketIsNakedAndTheConversationGoesOn) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  EXPECT_NE(c.ask("qSupported"), "");  // acked and answered; the '+' is behind us
  c.send_raw("$m" + std::string(4 * kMaxPacketPayload, '0') + "#00");
  EXPECT_TRUE(c.wait_for(RspItem::Kind::kNack));
  EXPECT_EQ(c.ask("?"), "T05thread:01;");
  c.send("k");
  s.thread.join();
  EXPECT_TRUE(s.events.empty());
}

TEST(GdbServer, AdvertisesThePacketSizeItAccepts) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  EXPECT_NE(c.ask("qSupported").find(fmt::format("PacketSize={:x};", kMaxPacketPayload)), std::string::npos);
  c.send("k");
  s.thread.join();
}

// Nobody connects: serve() gives up after the wait instead of blocking forever.
TEST(GdbServer, NoClientWithinTheWaitThrowsAndRunsNothing) {
  const TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  sim::Session session(image);
  sim::SimDebugTarget target(session);
  GdbServer server(0);
  size_t events = 0;
  EXPECT_THROW(server.serve(target, RunLimits{}, [&](const Event&) { ++events; }, std::chrono::milliseconds(200)),
               GdbNoClientError);
  EXPECT_EQ(events, 0u);
}

}  // namespace
}  // namespace tdsim::gdbstub
