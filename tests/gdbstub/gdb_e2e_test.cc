// Debian's gdb driving `tdsim run --gdb 127.0.0.1:0` from the reset vector into the
// guest and to DONE. Every wait has a deadline: gdb runs under timeout(1), and tdsim is
// killed if it outlives its deadline.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "host/registry.h"
#include "tests/host/backend_params.h"
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

bool have_gdb() { return run_command("command -v gdb").exit_code == 0; }

// One session: `tdsim run --guest ELF --gdb 127.0.0.1:0`, then stock gdb in batch mode
// with no ELF loaded: connect, the `-ex` commands, and whatever they leave (gdb detaches
// at the end of the batch, so the TD runs on to its end).
struct Session {
  int gdb_exit = -1;
  std::string gdb;  // gdb's combined output
  int tdsim_exit = -1;
  std::string out;  // tdsim's stdout
  std::string ctx;  // everything, for failure messages
};

// The same with any tdsim command line that serves gdb on a free port.
Session run_session_of(const std::vector<std::string>& tdsim_args, const std::vector<std::string>& commands,
                       const std::string& gdb_file = "") {
  Session r;
  const std::string out_path =
      (std::filesystem::temp_directory_path() / ("tdsim-gdb-e2e-" + std::to_string(::getpid()) + ".out")).string();
  TdsimChild td(tdsim_args, out_path);
  if (!td.started()) return r;
  const int port = td.wait_for_port(std::chrono::seconds(30));
  if (port == 0) {
    r.ctx = "no port line:\n" + td.stderr_text();
    return r;
  }
  // timeout(1) is a hang guard only: the session ends by itself long before.
  std::string cmd = "timeout -k 5 120 gdb -nx -batch";
  if (!gdb_file.empty()) cmd += " -ex 'file " + gdb_file + "'";
  cmd += fmt::format(" -ex 'target remote 127.0.0.1:{}'", port);
  for (const std::string& ex : commands) cmd += " -ex '" + ex + "'";
  const CommandResult gdb = run_command(cmd);
  r.gdb_exit = gdb.exit_code;
  r.gdb = gdb.output;
  r.tdsim_exit = td.wait_exit(std::chrono::seconds(60));
  r.out = slurp(out_path);
  std::filesystem::remove(out_path);
  r.ctx = "gdb:\n" + r.gdb + "\ntdsim stdout:\n" + r.out + "\ntdsim stderr:\n" + td.stderr_text();
  return r;
}

Session run_session(const std::string& backend, const char* elf, const std::vector<std::string>& commands,
                    const std::string& gdb_file = "") {
  return run_session_of({TDSIM_BIN, "run", "--backend", backend, "--guest", elf, "--gdb", "127.0.0.1:0"}, commands,
                        gdb_file);
}

uint64_t symbol(const TdImage& image, const std::string& name) {
  for (const Symbol& s : image.symbols)
    if (s.name == name) return s.addr;
  ADD_FAILURE() << "no symbol " << name;
  return 0;
}

// Every backend with a debug target (BackendCaps::debug_target), the same session each.
class GdbE2eOn : public ::tdsim::test::OnBackend {};

// From the reset vector (32-bit: the i386 description) through a stub-label breakpoint
// (64-bit: re-read description) into the guest and to DONE, no ELF given to gdb.
TEST_P(GdbE2eOn, StockGdbWithoutElfFollowsTheBootFromResetToDone) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  const uint64_t long64 = symbol(image, "td_boot_long64");
  const auto hex = [](uint64_t v) { return fmt::format("{:#x}", v); };
  const Session s = run_session(GetParam(), TDSIM_GUEST_HELLO_ELF, {
      "info registers",
      "x/2i $pc",
      "stepi",
      "printf \"PC1=%x\\n\", $pc",
      // The whole 32-bit stub: its far jump exists only in 32-bit code (64-bit: bad).
      "x/16i $pc",
      "monitor cr",
      "monitor bootparams",
      "break *" + hex(long64),
      "continue",
      "monitor cr",
      "unset tdesc filename",
      "info registers rip cr0 cr3 efer",
      "x/i $pc",
      "break *" + hex(image.guest_entry),
      "continue",
      "printf \"RIP2=%lx RSP2=%lx\\n\", $rip, $rsp",
      "monitor walk " + hex(image.guest_entry),
      "continue",
  });
  ASSERT_EQ(s.gdb_exit, 0) << s.ctx;
  // No 'g' reply error, the reset state as the TD sees it in the i386 view.
  EXPECT_EQ(s.gdb.find("Remote 'g' packet reply"), std::string::npos) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("eip +0xfffffff0"))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("cr0 +0x21 "))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("cr3 +0x0 "))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("efer +0x901 "))) << s.ctx;
  EXPECT_NE(s.gdb.find("0xfffffff0:\tjmp"), std::string::npos) << s.ctx;
  EXPECT_EQ(value_of(s.gdb, "PC1"), fmt::format("{:x}", image.stub_gpa)) << s.ctx;
  EXPECT_NE(s.gdb.find("ljmp   $0x8,"), std::string::npos) << s.ctx;
  EXPECT_EQ(s.gdb.find("(bad)"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("vCPU 0: 32-bit protected mode; gdb's description: i386\n"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("boot parameters at GPA 0xffff0000:"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find(fmt::format("vcpu 0: esp {:#x} guest_code {:#x}", image.per_vcpu.at(0).esp_gva,
                                   image.per_vcpu.at(0).guest_code)),
            std::string::npos)
      << s.ctx;
  // The stub label in 64-bit code: the breakpoint stops there, monitor says the
  // description no longer fits, and after re-reading it gdb has the amd64 view.
  EXPECT_NE(s.gdb.find(fmt::format("Breakpoint 1, {:#x} in ?? ()", long64)), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("vCPU 0: 64-bit (long mode); gdb's description is still i386: `unset tdesc filename`"),
            std::string::npos)
      << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex(fmt::format("rip +{:#x}", long64)))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("cr0 +0x80000031 "))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("cr3 +0x1000 "))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("efer +0xd01 "))) << s.ctx;
  EXPECT_NE(s.gdb.find("jmp    *0x8(%rax)"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("Breakpoint 2, " + fmt::format("{:#018x}", image.guest_entry)), std::string::npos) << s.ctx;
  EXPECT_EQ(value_of(s.gdb, "RIP2"), fmt::format("{:x}", image.guest_entry)) << s.ctx;
  EXPECT_EQ(value_of(s.gdb, "RSP2"), fmt::format("{:x}", image.per_vcpu.at(0).esp_gva)) << s.ctx;
  EXPECT_NE(s.gdb.find(fmt::format("mapped -> GPA {:#x}", image.guest_entry)), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("exited normally"), std::string::npos) << s.ctx;
  EXPECT_EQ(s.tdsim_exit, 0) << s.ctx;
  EXPECT_NE(s.out.find("vcpu 0: ucall DONE"), std::string::npos) << s.ctx;
  EXPECT_NE(s.out.find("tdsim: DONE on " + GetParam()), std::string::npos) << s.ctx;
}

// A read watchpoint on the boot parameters stops in the stub after the load; a write
// watchpoint on the ucall slot stops in the guest; `monitor tdcalls` lists the ucall
// TDCALL once it ran.
TEST_P(GdbE2eOn, WatchpointsOnBootParamsAndUcallSlotTrigger) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  const Session s = run_session(GetParam(), TDSIM_GUEST_HELLO_ELF, {
      "rwatch *(unsigned int *)0xffff0004",
      "continue",
      "x/i $pc",
      "delete",
      fmt::format("watch *(unsigned long long *){:#x}", image.ucall_pool_gpa),
      "continue",
      "monitor tdcalls",
      "delete",
      fmt::format("break *{:#x}", image.guest_entry),
      "continue",
  });
  ASSERT_EQ(s.gdb_exit, 0) << s.ctx;
  EXPECT_NE(s.gdb.find("Hardware read watchpoint 1: *(unsigned int *)0xffff0004\n\nValue = 4096"), std::string::npos)
      << s.ctx;
  EXPECT_NE(s.gdb.find("mov    %edi,%cr3"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("Hardware watchpoint 2: "), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("Old value = 0\nNew value = "), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("no TDCALL yet"), std::string::npos) << s.ctx;  // the store comes before the TDCALL
  EXPECT_EQ(s.tdsim_exit, 0) << s.ctx;
}

// With the guest ELF loaded before connecting (symbols), gdb rejects the i386
// description at the reset vector and uses its built-in amd64 registers; the session
// works, and re-reading the description adds the control registers.
TEST_P(GdbE2eOn, GdbWithTheGuestElfLoadedUsesAmd64Throughout) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  const Session s = run_session(GetParam(), TDSIM_GUEST_HELLO_ELF, {
      "info registers rip",
      "monitor cr",
      "break _start",
      "continue",
      "info registers rip rsp",
      "unset tdesc filename",
      "info registers cr3 efer",
      "monitor cr",
      "continue",
  }, TDSIM_GUEST_HELLO_ELF);
  ASSERT_EQ(s.gdb_exit, 0) << s.ctx;
  EXPECT_EQ(s.gdb.find("Remote 'g' packet reply"), std::string::npos) << s.ctx;
  EXPECT_EQ(s.gdb.find("Truncated register"), std::string::npos) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("rip +0xfffffff0"))) << s.ctx;
  EXPECT_NE(s.gdb.find("gdb decodes this code as 64-bit"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("Breakpoint 1, _start ()"), std::string::npos) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex(fmt::format("rip +{:#x} +{:#x} <_start>", image.guest_entry,
                                                              image.guest_entry))))
      << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("cr3 +0x1000 "))) << s.ctx;
  EXPECT_TRUE(std::regex_search(s.gdb, std::regex("efer +0xd01 "))) << s.ctx;
  EXPECT_NE(s.gdb.find("vCPU 0: 64-bit (long mode); gdb's description: i386:x86-64"), std::string::npos) << s.ctx;
  EXPECT_NE(s.gdb.find("exited normally"), std::string::npos) << s.ctx;
  EXPECT_EQ(s.tdsim_exit, 0) << s.ctx;
}

// `continue` to the end gives gdb the run's exit code, and tdsim exits with it.
TEST_P(GdbE2eOn, ContinueToTheEndExitsWithTheRunsExitCode) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const Session s = run_session(GetParam(), TDSIM_GUEST_ASSERT_ELF, {"continue"});
  ASSERT_EQ(s.gdb_exit, 0) << s.ctx;
  EXPECT_NE(s.gdb.find("exited with code 01"), std::string::npos) << s.ctx;
  EXPECT_EQ(s.tdsim_exit, 1) << s.ctx;
  EXPECT_NE(s.out.find("ucall ABORT"), std::string::npos) << s.ctx;
}

TEST(GdbE2e, GdbOptionRefusesNonLoopbackAndOtherBackends) {
  CommandResult r = run_command(tdsim_cmd("run --gdb 0.0.0.0:1234"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--gdb"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("loopback"), std::string::npos) << r.output;
  r = run_command(tdsim_cmd("run --backend kvm-tdx --gdb 127.0.0.1:0"));
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_NE(r.output.find("--gdb: backend kvm-tdx offers no debug target; backends that offer one: unicorn, kvm"),
            std::string::npos)
      << r.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, GdbE2eOn,
                         ::testing::ValuesIn(::tdsim::test::backends_with([](const host::BackendCaps& c) {
                           return c.debug_target;
                         })),
                         ::tdsim::test::backend_param_name);

}  // namespace
#ifdef TD_RAW_BIN
// tdsim exec --gdb: stock gdb on a foreign KVM program's TD (tests/ukvm's td_raw, whose
// own boot stub is at 0xfffff000), followed through the program's own KVM_RUN: the reset
// vector, a breakpoint, a step, a hardware breakpoint past the far jump, then on to the
// program's exit, which gdb is told.
TEST(GdbE2eExec, StockGdbFollowsAKvmProgramsTdToItsExit) {
  if (!have_gdb()) GTEST_SKIP() << "gdb is not installed (apt-get install gdb)";
  const std::string pages =
      (std::filesystem::temp_directory_path() / ("tdsim-gdb-e2e-pages-" + std::to_string(::getpid()))).string();
  const Session s = run_session_of(
      {TDSIM_BIN, "exec", "--gdb", "127.0.0.1:0", "--timeout", "60", "--", TD_RAW_BIN, "run", pages},
      {"info registers eip cs", "break *0xfffff000", "continue", "stepi", "info registers eip",
       "hbreak *0xfffff030", "continue", "unset tdesc filename", "info registers rip", "delete", "continue"});
  std::filesystem::remove(pages);
  EXPECT_EQ(s.tdsim_exit, 0) << s.ctx;
  for (const char* want : {"eip            0xfffffff0", "cs             0x0", "Breakpoint 1, 0xfffff000",
                           "eip            0xfffff007", "Breakpoint 2, 0xfffff030", "rip            0xfffff030",
                           "[Inferior 1 (Remote target) exited normally]"})
    EXPECT_NE(s.gdb.find(want), std::string::npos) << want << "\n" << s.ctx;
  EXPECT_NE(s.out.find("PASS: td_raw run"), std::string::npos) << s.ctx;
}
#endif

}  // namespace tdsim::gdbstub
