// The one TCP connection to gdb: listen on 127.0.0.1 only (a TD's memory is not for
// the network), accept a single client, send framed packets, and receive RspItems, either
// blocking (TD stopped, waiting for a command) or polled (TD running, watching for the
// Ctrl-C byte). Knows rsp_packet.h and POSIX sockets; nothing about the simulator.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "core/backend.h"
#include "rsp_packet.h"

namespace tdsim::gdbstub {

// A socket call failed; the message names the call and errno. A BackendError: the
// debugger transport is part of running the TD, and the CLI reports it as such.
class RspSocketError : public BackendError {
 public:
  using BackendError::BackendError;
};

class RspSocket {
 public:
  // Binds and listens on 127.0.0.1:port (0 = a free port the kernel picks).
  explicit RspSocket(uint16_t port);
  ~RspSocket();
  RspSocket(const RspSocket&) = delete;
  RspSocket& operator=(const RspSocket&) = delete;

  uint16_t port() const { return port_; }
  // Waits up to `wait` for gdb to connect; the listening socket is closed then (one
  // client only). False when nobody connected in time.
  bool accept_client(std::chrono::milliseconds wait);
  bool connected() const { return client_ >= 0; }
  // From another thread: shuts the client connection, so a wait_item() in progress
  // returns nullopt (gdb gone). The descriptor stays open until destruction.
  void shutdown_client();

  // Frames `payload` and sends it; remembered for a resend when gdb answers '-'.
  void send_packet(std::string_view payload);
  void resend_last();
  void send_raw(std::string_view bytes);
  // The next item, blocking; nullopt when gdb closed the connection.
  std::optional<RspItem> wait_item();
  // Reads what has arrived without blocking; true when it held the Ctrl-C byte (other
  // items are kept for wait_item()).
  bool poll_interrupt();

 private:
  bool read_some(bool block);  // false on EOF
  static constexpr size_t kMaxPending = 64;

  int listen_ = -1;
  std::atomic<int> client_{-1};
  uint16_t port_ = 0;
  RspReader reader_;
  std::deque<RspItem> pending_;
  std::string last_sent_;
};

}  // namespace tdsim::gdbstub
