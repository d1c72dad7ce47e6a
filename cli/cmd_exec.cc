// `tdsim exec [options] -- PROGRAM [ARGS]`: runs an unmodified KVM program with the
// user-space KVM (libtdsim_kvm.so, docs/userspace-kvm.md) preloaded, so its /dev/kvm is a
// TDX-capable KVM whose TDs run on tdsim's engine. tdsim forks, waits and enforces the
// whole-program budget; the library itself arms nothing. Exit status: the program's
// (128 + signal when a signal ended it), 124 when --timeout ran out, 127 / 126 when the
// program cannot be found / run, 64 for bad options, 70 when the library is missing.
// --max-insns and --trace are the engine's (TdSetup), handed to the library by environment.
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
#include <string_view>
#include <thread>

#include "commands.h"
#include "core/outcome.h"
#include "core/text_escape.h"
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

}  // namespace

int cmd_exec(const std::vector<std::string>& args) {
  auto dashes = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> opts(args.begin(), dashes);
  const std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());

  double timeout = 600;
  std::string trace;
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
      ("trace", po::value<std::string>(&trace), "trace lines on stderr: a comma list of boot, tdcall, insn");
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
  if (!(timeout > 0) || timeout > 1e7) throw UsageError(fmt::format("--timeout {}: must be > 0 seconds", timeout));
  if (command.empty()) throw UsageError("no program given: tdsim exec [options] -- PROGRAM [ARGS]");

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
    if (vm.count("explain")) setenv("TDSIM_KVM_EXPLAIN", "1", 1);
    if (vm.count("trace")) setenv("TDSIM_KVM_TRACE", trace.c_str(), 1);
    if (vm.count("max-insns")) setenv("TDSIM_KVM_MAX_INSNS", std::to_string(max_insns).c_str(), 1);
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
      return kExitBudget;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The program's children may outlive it in its group; the budget covers them too.
  kill(-child, SIGKILL);
  return exit_status(status);
}

}  // namespace tdsim::cli
