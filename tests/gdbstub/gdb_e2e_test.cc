// Debian's gdb driving `tdsim run --gdb 127.0.0.1:0` from the reset vector into the
// guest and to DONE. Every wait has a deadline: gdb runs under timeout(1), and tdsim is
// killed if it outlives its deadline.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "td_image_fixture.h"

extern char** environ;

namespace tdsim::gdbstub {
namespace {

using Clock = std::chrono::steady_clock;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// A shell command line's combined output and exit status (tests/cli/run_command.h has
// the same, but its global tdsim() clashes with namespace tdsim).
CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

std::string tdsim_cmd(const std::string& args) { return std::string(TDSIM_BIN) + " " + args; }

// `tdsim run ... --gdb 127.0.0.1:0` as a child: stderr on a pipe (for the port line),
// stdout into a file.
class TdsimChild {
 public:
  TdsimChild(const std::vector<std::string>& args, const std::string& stdout_path) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    err_ = p[0];
  }
  ~TdsimChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) ::close(err_);
  }
  bool started() const { return pid_ > 0; }
  const std::string& stderr_text() const { return err_text_; }

  // The port from "tdsim: waiting for gdb on 127.0.0.1:PORT", or 0 at the deadline/EOF.
  int wait_for_port(std::chrono::seconds limit) {
    const std::regex re("waiting for gdb on 127\\.0\\.0\\.1:([0-9]+)\n");
    const auto until = Clock::now() + limit;
    std::smatch m;
    while (!std::regex_search(err_text_, m, re)) {
      if (!read_stderr(until)) return 0;
    }
    return std::stoi(m[1]);
  }
  // Exit status, or -1 if it did not exit by the deadline (then it is killed).
  int wait_exit(std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    for (;;) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        while (read_stderr(Clock::now() + std::chrono::milliseconds(200))) {}
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      if (Clock::now() >= until) return -1;
      // Drains stderr while waiting (bounded by a short poll, not a fixed sleep).
      read_stderr(Clock::now() + std::chrono::milliseconds(50));
    }
  }

 private:
  bool read_stderr(Clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{err_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(err_, buf, sizeof buf);
    if (n <= 0) return false;
    err_text_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_ = -1;
  std::string err_text_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string value_of(const std::string& out, const std::string& key) {
  std::smatch m;
  return std::regex_search(out, m, std::regex(key + "=([0-9a-f]+)")) ? std::string(m[1]) : "<missing " + key + ">";
}

TEST(GdbE2e, GdbStepsFromResetVectorThroughStubToGuestAndDone) {
  if (run_command("command -v gdb").exit_code != 0) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  const std::string out_path =
      (std::filesystem::temp_directory_path() / ("tdsim-gdb-e2e-" + std::to_string(::getpid()) + ".out")).string();
  TdsimChild td({TDSIM_BIN, "run", "--guest", TDSIM_GUEST_HELLO_ELF, "--gdb", "127.0.0.1:0"}, out_path);
  ASSERT_TRUE(td.started());
  const int port = td.wait_for_port(std::chrono::seconds(30));
  ASSERT_NE(port, 0) << td.stderr_text();

  const auto hex = [](uint64_t v) { return fmt::format("{:#x}", v); };
  std::string cmd = "timeout -k 5 60 gdb -nx -batch -ex 'set architecture i386:x86-64'";
  for (const std::string& ex : {
           fmt::format("target remote 127.0.0.1:{}", port),
           std::string("info registers rip"),
           std::string("printf \"RIP0=%lx\\n\", (unsigned long)$rip"),
           std::string("printf \"MEM0=%x\\n\", *(unsigned char *)0xfffffff0"),
           std::string("monitor cr"),
           std::string("stepi"),
           std::string("printf \"RIP1=%lx\\n\", (unsigned long)$rip"),
           "break *" + hex(image.guest_entry),
           std::string("continue"),
           std::string("printf \"RIP2=%lx RSP2=%lx\\n\", (unsigned long)$rip, (unsigned long)$rsp"),
           std::string("monitor cr"),
           std::string("continue"),
       })
    cmd += " -ex '" + ex + "'";
  const CommandResult gdb = run_command(cmd);
  const int tdsim_exit = td.wait_exit(std::chrono::seconds(30));
  const std::string out = slurp(out_path);
  std::filesystem::remove(out_path);
  const std::string ctx = "gdb:\n" + gdb.output + "\ntdsim stdout:\n" + out + "\ntdsim stderr:\n" + td.stderr_text();

  EXPECT_EQ(gdb.exit_code, 0) << ctx;
  EXPECT_NE(gdb.output.find("rip            0xfffffff0"), std::string::npos) << ctx;
  EXPECT_EQ(value_of(gdb.output, "RIP0"), "fffffff0") << ctx;
  EXPECT_EQ(value_of(gdb.output, "MEM0"), "eb") << ctx;
  // The reset vector's JMP rel8 lands on the first stub byte.
  EXPECT_EQ(value_of(gdb.output, "RIP1"), fmt::format("{:x}", image.stub_gpa)) << ctx;
  EXPECT_EQ(value_of(gdb.output, "RIP2"), fmt::format("{:x}", image.guest_entry)) << ctx;
  EXPECT_EQ(value_of(gdb.output, "RSP2"), fmt::format("{:x}", image.per_vcpu.at(0).esp_gva)) << ctx;
  const size_t first_mode = gdb.output.find("vCPU 0: 32-bit protected mode");
  const size_t long_mode = gdb.output.find("vCPU 0: 64-bit (long mode)");
  EXPECT_NE(first_mode, std::string::npos) << ctx;
  EXPECT_NE(long_mode, std::string::npos) << ctx;
  EXPECT_LT(first_mode, long_mode) << ctx;
  EXPECT_NE(gdb.output.find("Breakpoint 1, " + fmt::format("{:#018x}", image.guest_entry)), std::string::npos) << ctx;
  EXPECT_NE(gdb.output.find("exited normally"), std::string::npos) << ctx;
  EXPECT_EQ(tdsim_exit, 0) << ctx;
  EXPECT_NE(out.find("vcpu 0: ucall DONE"), std::string::npos) << ctx;
  EXPECT_NE(out.find("tdsim: DONE on unicorn"), std::string::npos) << ctx;
}

TEST(GdbE2e, GdbOptionRefusesNonLoopbackAndOtherBackends) {
  CommandResult r = run_command(tdsim_cmd("run --gdb 0.0.0.0:1234"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--gdb"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("loopback"), std::string::npos) << r.output;
  r = run_command(tdsim_cmd("run --backend kvm --gdb 127.0.0.1:0"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--gdb: backend kvm offers no debug target"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tdsim::gdbstub
