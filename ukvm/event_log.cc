#include "event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "cli/json_events.h"
#include "core/text_escape.h"
#include "exec_options.h"
#include "notice.h"

namespace tdsim::ukvm {

namespace {

std::once_flag g_open_once;
int g_fd = -1;
std::atomic<bool> g_write_failed{false};

int event_fd() {
  std::call_once(g_open_once, [] {
    const std::string& path = exec_options().events_path;
    g_fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (g_fd < 0)
      notice("TDSIM_KVM_EVENTS=" + escape_text(path) + ": cannot open: " + std::strerror(errno) + "; no events");
  });
  return g_fd;
}

}  // namespace

bool event_log_enabled() { return !exec_options().events_path.empty(); }

void log_event(const Event& e) {
  if (!event_log_enabled()) return;
  const int fd = event_fd();
  if (fd < 0) return;
  const std::string line = cli::event_to_json(e).dump() + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) && !g_write_failed.exchange(true))
    notice("TDSIM_KVM_EVENTS: an event line could not be written: " + std::string(std::strerror(errno)));
}

}  // namespace tdsim::ukvm
