#include "rsp_socket.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tdsim::gdbstub {

namespace {

[[noreturn]] void fail(const char* call, int err) {
  throw RspSocketError(fmt::format("gdb stub: {} failed: {} ({})", call, std::strerror(err), err));
}

}  // namespace

RspSocket::RspSocket(uint16_t port) {
  listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_ < 0) fail("socket(AF_INET, SOCK_STREAM)", errno);
  const int one = 1;
  ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(listen_);
    fail(fmt::format("bind(127.0.0.1:{})", port).c_str(), e);
  }
  socklen_t len = sizeof a;
  if (::listen(listen_, 1) != 0 || ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    ::close(listen_);
    fail("listen/getsockname(127.0.0.1)", e);
  }
  port_ = ntohs(a.sin_port);
}

RspSocket::~RspSocket() {
  if (client_ >= 0) ::close(client_);
  if (listen_ >= 0) ::close(listen_);
}

bool RspSocket::accept_client(std::chrono::milliseconds wait) {
  // poll() first: accept() alone would wait for a client forever, whatever the run's
  // budgets say.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{listen_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("poll(gdb listening socket)", errno);
    if (r > 0) break;
  }
  int fd;
  do fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("accept(gdb client)", errno);
  ::close(listen_);
  listen_ = -1;
  client_ = fd;
  // Packets are small and each waits for an answer: Nagle would only add latency.
  const int one = 1;
  ::setsockopt(client_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

void RspSocket::send_raw(std::string_view bytes) {
  while (!bytes.empty() && client_ >= 0) {
    const ssize_t n = ::send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      // gdb went away: wait_item() reports the end of the conversation.
      ::close(client_);
      client_ = -1;
      return;
    }
    if (n < 0) fail("send(to gdb)", errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void RspSocket::send_packet(std::string_view payload) {
  last_sent_ = frame_packet(payload);
  send_raw(last_sent_);
}

void RspSocket::resend_last() {
  if (!last_sent_.empty()) send_raw(last_sent_);
}

bool RspSocket::read_some(bool block) {
  if (client_ < 0) return false;
  char buf[4096];
  const ssize_t n = ::recv(client_, buf, sizeof buf, block ? 0 : MSG_DONTWAIT);
  if (n == 0) return false;
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == ECONNRESET) return false;
    fail("recv(from gdb)", errno);
  }
  reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
  while (auto item = reader_.next()) {
    // Bounded while the TD runs and nobody takes items: acks carry nothing (dropped),
    // one pending interrupt is as good as many, and past kMaxPending the rest is dropped
    // (gdb never has more than one packet in flight; only a flooding client gets here).
    if (item->kind == RspItem::Kind::kAck) continue;
    const bool interrupt = item->kind == RspItem::Kind::kInterrupt;
    if (interrupt && std::any_of(pending_.begin(), pending_.end(),
                                 [](const RspItem& i) { return i.kind == RspItem::Kind::kInterrupt; }))
      continue;
    if (!interrupt && pending_.size() >= kMaxPending) continue;
    pending_.push_back(std::move(*item));
  }
  return true;
}

std::optional<RspItem> RspSocket::wait_item() {
  while (pending_.empty())
    if (!read_some(true)) return std::nullopt;
  RspItem item = std::move(pending_.front());
  pending_.pop_front();
  return item;
}

bool RspSocket::poll_interrupt() {
  if (client_ < 0) return false;  // gdb is gone: the run goes on to its end
  // The byte may have come in the same recv() as the packet that started the run.
  pollfd p{client_, POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && !read_some(false)) return true;  // EOF: wait_item() reports it
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if (it->kind == RspItem::Kind::kInterrupt) {
      pending_.erase(it);
      return true;
    }
  return false;
}

void RspSocket::shutdown_client() {
  if (const int fd = client_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace tdsim::gdbstub
