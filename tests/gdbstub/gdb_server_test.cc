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
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(20);

// A minimal RSP client: every wait has a deadline, so a broken server fails the test.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  void send_raw(std::string_view s) { ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }
  void send(std::string_view payload) { send_raw(frame_packet(payload)); }
  // The next packet (acks skipped); "<timeout>" or "<eof>" otherwise.
  std::string reply() {
    const auto until = Clock::now() + kDeadline;
    for (;;) {
      while (auto it = reader_.next())
        if (it->kind == RspItem::Kind::kPacket) return it->payload;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return "<timeout>";
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "<eof>";
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // Waits for an item of this kind (packets and other items before it are dropped).
  bool wait_for(RspItem::Kind kind) {
    const auto until = Clock::now() + kDeadline;
    for (;;) {
      while (auto it = reader_.next())
        if (it->kind == kind) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  std::string ask(std::string_view payload) {
    send(payload);
    return reply();
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  RspReader reader_;
};

struct Served {
  TdImage image;
  sim::Session session;
  GdbServer server{0};
  std::vector<Event> events;
  std::thread thread;
  Served(const char* elf, RunLimits limits)
      : image(test::image_for(elf)), session(image),
        thread([this, limits] { server.serve(session, limits, [this](const Event& e) { events.push_back(e); },
                                            std::chrono::seconds(60)); }) {}
  ~Served() {
    if (thread.joinable()) thread.join();
  }
};

TEST(GdbServer, AnswersStopRegistersMemoryAndRunsToExitReply) {
  Served s(TDSIM_GUEST_HELLO_ELF, RunLimits{100'000'000, std::chrono::seconds(30)});
  Client c(s.server.port());
  ASSERT_TRUE(c.connected());
  EXPECT_NE(c.ask("qSupported:swbreak+;vContSupported+").find("swbreak+"), std::string::npos);
  EXPECT_EQ(c.ask("?"), "T05thread:01;");
  EXPECT_EQ(c.ask("qfThreadInfo"), "m1");
  const std::string g = c.ask("g");
  ASSERT_EQ(g.size(), 2 * g_packet_bytes());
  EXPECT_EQ(g.substr(2 * g_offset(kRegRip), 16), "f0ffffff00000000");
  EXPECT_EQ(c.ask("mfffffff0,1"), "eb");
  EXPECT_EQ(c.ask("p10"), "f0ffffff00000000");
  EXPECT_EQ(c.ask("p39"), "");  // beyond the file (e.g. orig_rax): declined
  EXPECT_EQ(c.ask("Z1,400000,1"), "");  // hardware breakpoints: not supported
  EXPECT_EQ(c.ask(fmt::format("Z0,{:x},1", s.image.guest_entry)), "OK");
  EXPECT_EQ(c.ask("vCont;c"), "T05swbreak:;thread:1;");
  EXPECT_EQ(c.ask("p10"), fmt::format("{}", to_hex(read_register(s.session.vcpu(0).engine(), kRegRip)->data(), 8)));
  EXPECT_NE(from_hex(c.ask("qRcmd," + to_hex("cr"))).value_or(std::vector<uint8_t>{}).size(), 0u);
  EXPECT_EQ(c.ask("vCont;s:1"), "T05thread:1;");
  EXPECT_EQ(c.ask("c"), "W00");
  s.thread.join();
  EXPECT_EQ(classify(s.events, 1), Outcome::kDone);
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
  EXPECT_EQ(c.ask("p100000000"), "");  // no register number wraps around to rax
  EXPECT_EQ(c.ask("P100000010=0000000000000000"), "E01");
  EXPECT_EQ(c.ask("p10"), "f0ffffff00000000");  // the corrupted step did not run
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
  GdbServer server(0);
  size_t events = 0;
  EXPECT_THROW(server.serve(session, RunLimits{}, [&](const Event&) { ++events; }, std::chrono::milliseconds(200)),
               GdbNoClientError);
  EXPECT_EQ(events, 0u);
}

}  // namespace
}  // namespace tdsim::gdbstub
