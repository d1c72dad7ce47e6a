#include "gdb_follow.h"

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/text_escape.h"
#include "exec_options.h"
#include "gdbstub/gdb_server.h"
#include "notice.h"
#include "td_engine.h"

namespace tdsim::ukvm {

namespace {

// As `tdsim run --gdb`'s default --gdb-wait; tdsim exec's --timeout bounds it anyway.
constexpr auto kClientWait = std::chrono::seconds(300);
// At exit: how long gdb waiting for a stop may take to be told, then to be hung up on.
constexpr auto kExitReport = std::chrono::milliseconds(500);
constexpr auto kExitHangUp = std::chrono::seconds(2);

struct Stub {
  pid_t pid;  // the process that started it (a forked child inherits this, not the thread)
  gdbstub::FollowingRunControl* control;
  std::unique_ptr<gdbstub::GdbServer> server;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // the stub thread has finished with gdb
};
// Never freed: vCPU threads may still wait on the run control while the process exits.
Stub* g_stub = nullptr;
std::mutex g_attach_mu;

void serve(Stub* s) {
  gdbstub::GdbServer::FollowEnd end = gdbstub::GdbServer::FollowEnd::kDetached;
  try {
    end = s->server->follow(*s->control, kClientWait);
  } catch (const std::exception& e) {
    // No gdb came, or the connection failed: the TD runs on without it.
    notice(fmt::format("gdb stub: {}; the TD runs on without gdb", escape_text(e.what())));
    s->control->detach();
  }
  if (end == gdbstub::GdbServer::FollowEnd::kKilled) {
    notice("gdb killed the program");
    kill(getpid(), SIGKILL);
  }
  {
    std::lock_guard<std::mutex> l(s->mu);
    s->done = true;
  }
  s->cv.notify_all();
}

// on_exit: the status exit() was called with (a return from main included).
void at_exit(int status, void*) {
  Stub* s = g_stub;
  if (!s || s->pid != getpid()) return;
  s->control->program_exiting(status);
  if (!s->server->connected()) return;  // nobody to tell (the stub may still be waiting for gdb)
  std::unique_lock<std::mutex> l(s->mu);
  if (s->cv.wait_for(l, kExitReport, [&] { return s->done; })) return;
  s->server->hang_up();
  s->cv.wait_for(l, kExitHangUp, [&] { return s->done; });
}

}  // namespace

void attach_gdb_if_asked(TdEngine& engine) {
  const auto port = exec_options().gdb_port;
  if (!port) return;
  std::lock_guard<std::mutex> attach(g_attach_mu);
  if (g_stub && g_stub->pid == getpid()) {
    notice("--gdb follows this process's first TD; this one runs without gdb");
    return;
  }
  gdbstub::FollowingRunControl* control = engine.follow_debugger();
  if (!control) {
    notice("--gdb: this TD engine offers no debug target; the TD runs without gdb");
    return;
  }
  auto s = std::make_unique<Stub>();
  s->pid = getpid();
  s->control = control;
  try {
    s->server = std::make_unique<gdbstub::GdbServer>(*port);
  } catch (const std::exception& e) {
    notice(fmt::format("--gdb: {}; the TD runs without gdb", escape_text(e.what())));
    control->detach();
    return;
  }
  notice(fmt::format("waiting for gdb on 127.0.0.1:{}", s->server->port()));
  g_stub = s.release();
  on_exit(at_exit, nullptr);
  // The program's signals are for its own threads (a process-directed one may otherwise
  // land here and run its handler on the stub's thread): the thread starts with all blocked.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    std::thread(serve, g_stub).detach();
  } catch (const std::system_error& e) {
    notice(fmt::format("--gdb: cannot start the stub's thread: {}; the TD runs without gdb", e.what()));
    control->detach();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace tdsim::ukvm
