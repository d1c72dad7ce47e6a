// `tdsim exec [options] -- PROGRAM [ARGS]`: runs an unmodified KVM program with the
// user-space KVM (libtdsim_kvm.so, docs/userspace-kvm.md) preloaded, so its /dev/kvm is a
// TDX-capable KVM whose TDs run on tdsim's engine. tdsim forks, waits and enforces the
// whole-program budget; the library itself arms nothing. Exit status: the program's
// (128 + signal when a signal ended it), 124 when --timeout ran out, 127 / 126 when the
// program cannot be found / run, 64 for bad options, 70 when the library is missing.
// --max-insns and --trace are the engine's (TdSetup), handed to the library by environment.
// --format json --output FILE: tdsim writes the header line, the library appends the
// vCPUs' events, tdsim the summary once the program ended (docs/userspace-kvm.md).
// --gdb 127.0.0.1:PORT: the library serves gdb for the program's first TD (ukvm/gdb_follow.h).
#include <fmt/format.h>
#include <link.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <thread>

#include "commands.h"
#include "event_printer.h"
#include "json_events.h"
#include "core/outcome.h"
#include "core/text_escape.h"
#include "gdbstub/gdb_server.h"
#include "parse_args.h"
#include "run_options.h"

namespace tdsim::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// The sanitizer runtime this tdsim runs with, if it was built with ASan (libasan.so is
// then loaded). The preload library of such a build needs that runtime loaded before
// itself, or a program built without it — most are — refuses to start ("ASan runtime
// does not come first in initial library list").
std::string sanitizer_runtime() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) -> int {
        const std::string_view name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("/libasan.so") == std::string_view::npos) return 0;
        *static_cast<std::string*>(out) = std::string(name);
        return 1;
      },
      &found);
  return found;
}

volatile sig_atomic_t g_child_group = 0;

// A terminal's Ctrl-C reaches tdsim's process group; the program runs in its own group
// (so the budget can end all of it), so pass the signal on.
void forward_signal(int sig) {
  if (g_child_group > 0) kill(-g_child_group, sig);
}

// Where libtdsim_kvm.so may be: the build tree this tdsim was built in, its install
// location, then next to the running binary (build tree layout, then install layout).
std::vector<fs::path> library_candidates() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("TDSIM_KVM_LIBRARY"); env && *env) out.emplace_back(env);
  out.emplace_back(TDSIM_KVM_PRELOAD_BUILD_PATH);
  out.emplace_back(TDSIM_KVM_PRELOAD_INSTALL_PATH);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(self.parent_path() / ".." / "ukvm" / "libtdsim_kvm.so");
    out.push_back(self.parent_path() / ".." / "lib" / "libtdsim_kvm.so");
  }
  return out;
}

fs::path find_library() {
  std::string looked;
  for (const fs::path& p : library_candidates()) {
    if (access(p.c_str(), R_OK) == 0) return fs::absolute(p);
    looked += "\n  " + escape_text(p.string());
  }
  throw std::runtime_error("libtdsim_kvm.so not found; looked in:" + looked);
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitBackend;
}

// The event file of --format json: created (truncated) with its header line before the
// program starts, so a path that cannot be written is a usage error, not a silent loss.
using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

void start_event_file(const std::string& path) {
  const File f(std::fopen(path.c_str(), "w"), &std::fclose);
  if (!f) throw UsageError(fmt::format("--output {}: cannot create: {}", escape_text(path), std::strerror(errno)));
  std::fputs((header_json().dump() + "\n").c_str(), f.get());
  try {
    flush_output(f.get());
  } catch (const std::system_error& e) {
    throw UsageError(fmt::format("--output {}: {}", escape_text(path), e.what()));
  }
}

// A foreign program's outcome is its exit status, read as kselftest reads it: 0 pass,
// 4 skip, 124 a budget, 1 a failure the program reported (GUEST_ASSERT's code); anything
// else, a signal included, a fault.
RunSummary program_summary(int status, size_t nr_events) {
  RunSummary s;
  s.backend = "exec";
  s.nr_events = nr_events;
  switch (status) {
    case kExitDone: s.outcome = Outcome::kDone; break;
    case kExitGuestAssert: s.outcome = Outcome::kGuestAssert; break;
    case kExitSkip:
      s.outcome = Outcome::kSkip;
      s.skip_reason = "the program exited with 4 (KSFT_SKIP)";
      break;
    case kExitBudget: s.outcome = Outcome::kBudget; break;
    default: s.outcome = Outcome::kFault; break;
  }
  return s;
}

// Appends `lines` and the summary to the event file; events = the lines after the header.
void finish_event_file(const std::string& path, int status, const std::vector<Event>& own_events) {
  size_t lines = 0;
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) ++lines;
  }
  const File f(std::fopen(path.c_str(), "a"), &std::fclose);
  if (!f) throw std::runtime_error(fmt::format("--output {}: cannot reopen: {}", escape_text(path), std::strerror(errno)));
  for (const Event& e : own_events) std::fputs((event_to_json(e).dump() + "\n").c_str(), f.get());
  const size_t events = (lines ? lines - 1 : 0) + own_events.size();
  std::fputs((summary_to_json(program_summary(status, events)).dump() + "\n").c_str(), f.get());
  flush_output(f.get());
}

}  // namespace

int cmd_exec(const std::vector<std::string>& args) {
  auto dashes = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> opts(args.begin(), dashes);
  const std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());

  double timeout = 600;
  std::string trace, format_name = "text", output, gdb;
  uint64_t max_insns = 0;
  po::options_description desc(
      "tdsim exec [options] -- PROGRAM [ARGS]\n"
      "Runs PROGRAM with a user-space KVM that offers the TDX VM type (docs/userspace-kvm.md)");
  desc.add_options()
      ("timeout", po::value<double>(&timeout)->default_value(600),
       "whole-program wall-clock budget in seconds; exit 124 when it runs out")
      ("explain", "on a vCPU shutdown, print the fault explanation on stderr")
      ("max-insns", po::value<uint64_t>(&max_insns),
       "guest instructions each vCPU may run; past it the program ends with 124")
      ("trace", po::value<std::string>(&trace), "trace lines on stderr: a comma list of boot, tdcall, insn")
      ("format", po::value<std::string>(&format_name)->default_value(format_name),
       "text (notices on stderr only) | json (tdsim run's JSON lines, the vCPUs' events, to --output)")
      ("output", po::value<std::string>(&output), "FILE for --format json (the program's stdout is its own)")
      ("gdb", po::value<std::string>(&gdb),
       "127.0.0.1:PORT: serve gdb there (0 = a free port) for the program's first TD, held at its reset vector "
       "until gdb continues it");
  po::variables_map vm;
  if (!parse_args(desc, opts, &vm)) return kExitDone;
  if (vm.count("trace")) {
    size_t at = 0;
    for (;;) {
      const size_t comma = trace.find(',', at);
      const std::string kind = trace.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (kind != "boot" && kind != "tdcall" && kind != "insn")
        throw UsageError(fmt::format("--trace: unknown kind '{}' (boot, tdcall, insn)", escape_text(kind)));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  if (vm.count("max-insns") && max_insns == 0) throw UsageError("--max-insns: must be > 0");
  if (vm.count("gdb")) {
    std::string why;
    if (!gdbstub::parse_loopback_endpoint(gdb, &why)) throw UsageError("--gdb: " + escape_text(why));
  }
  if (!(timeout > 0) || timeout > 1e7) throw UsageError(fmt::format("--timeout {}: must be > 0 seconds", timeout));
  if (command.empty()) throw UsageError("no program given: tdsim exec [options] -- PROGRAM [ARGS]");
  const OutputFormat format = parse_format(format_name);
  if (format == OutputFormat::kKtap)
    throw UsageError("--format ktap: tdsim exec writes text or json (the program's own output is its KTAP)");
  if (format == OutputFormat::kJson && output.empty())
    throw UsageError("--format json needs --output FILE (the program's stdout is its own)");
  if (format != OutputFormat::kJson && vm.count("output")) throw UsageError("--output is for --format json");
  if (format == OutputFormat::kJson) {
    output = fs::absolute(output).string();  // the program may change its directory
    start_event_file(output);
  }

  const fs::path lib = find_library();
  std::string preload = lib.string();
  const std::string asan = sanitizer_runtime();
  if (!asan.empty()) preload = asan + ":" + preload;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;

  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    setpgid(0, 0);
    setenv("LD_PRELOAD", preload.c_str(), 1);
    if (!asan.empty()) {
      // A foreign program's own allocations are not ours to judge: no leak report from
      // the runtime it was handed (tdsim's own tests check tdsim for leaks).
      const char* old = std::getenv("ASAN_OPTIONS");
      const std::string opts = std::string(old && *old ? old : "") + (old && *old ? ":" : "") + "detect_leaks=0";
      setenv("ASAN_OPTIONS", opts.c_str(), 1);
    }
    // Only what this command line asks: nothing inherited from an outer tdsim exec.
    unsetenv("TDSIM_KVM_EXPLAIN");
    unsetenv("TDSIM_KVM_TRACE");
    unsetenv("TDSIM_KVM_MAX_INSNS");
    unsetenv("TDSIM_KVM_EVENTS");
    unsetenv("TDSIM_KVM_GDB");
    if (format == OutputFormat::kJson) setenv("TDSIM_KVM_EVENTS", output.c_str(), 1);
    if (vm.count("explain")) setenv("TDSIM_KVM_EXPLAIN", "1", 1);
    if (vm.count("trace")) setenv("TDSIM_KVM_TRACE", trace.c_str(), 1);
    if (vm.count("max-insns")) setenv("TDSIM_KVM_MAX_INSNS", std::to_string(max_insns).c_str(), 1);
    if (vm.count("gdb")) setenv("TDSIM_KVM_GDB", gdb.c_str(), 1);
    execvp(argv[0], argv.data());
    const int err = errno;
    const std::string msg = fmt::format("tdsim exec: cannot run {}: {}\n", escape_text(command[0]), std::strerror(err));
    [[maybe_unused]] ssize_t n = write(STDERR_FILENO, msg.data(), msg.size());
    _exit(err == ENOENT ? 127 : 126);
  }
  setpgid(child, child);  // also here, so the group exists before any kill below
  g_child_group = child;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-child, SIGKILL);
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      fmt::print(stderr, "tdsim exec: {} ran out of its --timeout of {} s; killed\n", escape_text(command[0]), timeout);
      if (format == OutputFormat::kJson) {
        BudgetExceededEvent b;
        b.kind = BudgetExceededEvent::Kind::kWallClock;
        b.limit = static_cast<uint64_t>(timeout * 1000);
        b.explanation.push_back(fmt::format("tdsim exec killed {} and its process group", escape_text(command[0])));
        finish_event_file(output, kExitBudget, {b});
      }
      return kExitBudget;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The program's children may outlive it in its group; the budget covers them too.
  kill(-child, SIGKILL);
  const int code = exit_status(status);
  if (format == OutputFormat::kJson) finish_event_file(output, code, {});
  return code;
}

}  // namespace tdsim::cli
