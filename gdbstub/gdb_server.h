// `tdsim run --gdb 127.0.0.1:PORT` and `tdsim exec --gdb`: a GDB remote-serial-protocol
// server for any backend's debug target (core/debug_target.h): a target description,
// registers, memory, breakpoints, watchpoints, monitor commands, step and continue from
// the reset vector on. gdb threads are vCPUs (id = index + 1); a step runs the selected
// vCPU, a continue all of them, through a RunControl: leading (serve: this thread runs
// them, events to the caller's sink) or following (follow: the program's threads run
// them). Knows the facet, RunControl and the socket; no engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/backend.h"
#include "core/debug_target.h"
#include "following_run_control.h"
#include "loopback_endpoint.h"
#include "rsp_socket.h"

namespace tdsim::gdbstub {

// Nobody connected within the wait: the TD never ran (the CLI exits 70 with this line).
class GdbNoClientError : public RspSocketError {
 public:
  using RspSocketError::RspSocketError;
};

class GdbServer {
 public:
  // Listens on 127.0.0.1:port now, so port() is known before serve() blocks.
  explicit GdbServer(uint16_t port) : socket_(port) {}
  uint16_t port() const { return socket_.port(); }

  // Waits up to `client_wait` for gdb (throws GdbNoClientError if none came), then
  // serves it until the TD ended (gdb gets W<exit code>) or a budget ran out (also W,
  // with the budget exit code). gdb detaching or disconnecting lets the TD run on to its
  // end without breakpoints; 'k' ends the run where it is. Keeps no copy of the events:
  // the exit code gdb is told is classified as they stream past.
  void serve(DebugTarget& target, const RunLimits& limits, const EventSink& sink,
             std::chrono::milliseconds client_wait);

  // How a following conversation ended.
  enum class FollowEnd { kDetached, kKilled, kOver };
  // Waits for gdb as serve() does, then serves it while the program's threads run the
  // vCPUs through `control` (which starts with the TD held). Detaching, gdb going away or
  // the end of the TD (kEnded: gdb got W<status>) leave `control` detached, the vCPUs
  // running free; on kKilled the caller ends the program.
  FollowEnd follow(FollowingRunControl& control, std::chrono::milliseconds client_wait);
  // From another thread: ends the conversation as if gdb had gone (its connection is shut).
  void hang_up() { socket_.shutdown_client(); }
  // A gdb is connected (any thread).
  bool connected() const { return socket_.connected(); }

 private:
  void accept(std::chrono::milliseconds client_wait);
  RspSocket socket_;
};

}  // namespace tdsim::gdbstub
