// A minimal scripted GDB remote-protocol client for tests that drive a gdb stub over
// its loopback socket (tdsim run's GdbServer in process, tdsim exec --gdb in a child):
// every wait has a deadline, so a broken server fails the test instead of hanging it.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

#include "gdbstub/rsp_packet.h"

namespace tdsim::gdbstub {

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

}  // namespace tdsim::gdbstub
