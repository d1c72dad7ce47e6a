// `tdsim exec --gdb`: gdb's remote protocol, driven from the test, follows td_raw's TD
// while td_raw's own thread runs it through KVM_RUN: the TD held at the reset vector
// before its first instruction, registers and (private) memory there, a software and a
// hardware breakpoint in td_raw's boot stub, a step, and the program's exit reported to
// gdb, with the program passing as it does without gdb.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "tests/gdbstub/rsp_client.h"

namespace {

using tdsim::gdbstub::Client;
using Clock = std::chrono::steady_clock;

// td_raw's guest page is at GPA 0xfffff000 (stubs/td_raw_stub.S): `start` (LGDT, 7
// bytes) at its beginning, `long64` (the far jump's target) at +0x30, the TDCALLs of its
// first two reports (MMIO writes: userspace exits) at +0x68 and +0x8f.
constexpr uint32_t kStubStart = 0xfffff000, kAfterLgdt = 0xfffff007, kLong64 = 0xfffff030;
constexpr uint32_t kFirstReport = 0xfffff068, kSecondReport = 0xfffff08f;

// A child running a shell command, its stdout and stderr into one pipe read as it goes.
class Child {
 public:
  explicit Child(const std::string& cmd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  // Reads output until it holds `what` (true) or the deadline passed / EOF (false).
  bool read_until(const std::string& what, std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    while (output_.find(what) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0 || !read_some(static_cast<int>(left))) return false;
    }
    return true;
  }
  // The exit status after reading the rest of the output (-1 on timeout).
  int wait(std::chrono::seconds limit) {
    const auto until = Clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return -1;
      if (!read_some(static_cast<int>(left))) break;
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return -1;
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }

 private:
  bool read_some(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string output_;
};

// td_raw writing its pages file at `pages`, under tdsim exec --gdb on a free port.
std::string td_raw_under_gdb(const std::string& pages) {
  return std::string(TDSIM_BIN) + " exec --gdb 127.0.0.1:0 --timeout 60 -- " + TD_RAW_BIN + " run " + pages;
}

// The port from the library's "waiting for gdb on 127.0.0.1:PORT" line, once it came
// (one write(2), so the whole line arrives together).
std::optional<uint16_t> gdb_port(Child& prog) {
  const std::string key = "waiting for gdb on 127.0.0.1:";
  if (!prog.read_until(key, std::chrono::seconds(30))) return std::nullopt;
  const std::string& out = prog.output();
  return static_cast<uint16_t>(std::stoul(out.substr(out.find(key) + key.size())));
}

// A 4-byte register of gdb's i386 file ('p' packet, little-endian hex).
uint32_t reg32(Client& c, unsigned n) {
  char packet[16];
  std::snprintf(packet, sizeof packet, "p%x", n);
  const std::string r = c.ask(packet);
  if (r.size() != 8) return 0xdeadbeef;
  uint32_t v = 0;
  for (int b = 3; b >= 0; --b) v = v << 8 | static_cast<uint32_t>(std::stoul(r.substr(2 * b, 2), nullptr, 16));
  return v;
}

constexpr unsigned kEip = 8, kCs = 10;  // gdb's i386 numbering: eax..edi, eip, eflags, cs

TEST(TdsimExecGdb, FollowsTdRawFromItsResetVectorToItsExit) {
  const std::string pages = testing::TempDir() + "/td_raw_gdb." + std::to_string(getpid());
  Child prog(td_raw_under_gdb(pages));
  const auto port = gdb_port(prog);
  ASSERT_TRUE(port) << prog.output();
  Client c(*port);
  ASSERT_TRUE(c.connected());
  EXPECT_NE(c.ask("qSupported:swbreak+;vContSupported+").find("swbreak+"), std::string::npos);
  // Held before the first instruction: RIP at the reset vector, CS the TD initial state's
  // flat selector 0 (base 0), the boot page's private bytes readable (a JMP there).
  EXPECT_EQ(c.ask("?"), "T05thread:01;");
  EXPECT_EQ(reg32(c, kEip), 0xfffffff0u);
  EXPECT_EQ(reg32(c, kCs), 0u);
  const std::string insn = c.ask("mfffffff0,1");
  EXPECT_TRUE(insn == "e9" || insn == "eb") << insn;
  // A software breakpoint on the stub's first instruction, reached by td_raw's KVM_RUN.
  EXPECT_EQ(c.ask("Z0,fffff000,1"), "OK");
  EXPECT_EQ(c.ask("c"), "T05swbreak:;thread:1;");
  EXPECT_EQ(reg32(c, kEip), kStubStart);
  // One instruction (the LGDT), then a hardware breakpoint past the far jump.
  EXPECT_EQ(c.ask("s"), "T05thread:1;");
  EXPECT_EQ(reg32(c, kEip), kAfterLgdt);
  EXPECT_EQ(c.ask("z0,fffff000,1"), "OK");
  EXPECT_EQ(c.ask("Z1,fffff030,1"), "OK");
  EXPECT_EQ(c.ask("c"), "T05swbreak:;thread:1;");
  EXPECT_EQ(reg32(c, kEip), kLong64);
  EXPECT_EQ(c.ask("z1,fffff030,1"), "OK");
  // A step over a TDCALL that exits to the program (the first report's MMIO write): done
  // once the program answered and the TDCALL completed in its next KVM_RUN.
  EXPECT_EQ(c.ask("Z0,fffff068,1"), "OK");
  EXPECT_EQ(c.ask("c"), "T05swbreak:;thread:1;");
  EXPECT_EQ(reg32(c, kEip), kFirstReport);
  EXPECT_EQ(c.ask("s"), "T05thread:1;");
  EXPECT_EQ(reg32(c, kEip), kFirstReport + 4);
  EXPECT_EQ(c.ask("z0,fffff068,1"), "OK");
  // Continuing from a breakpoint on such a TDCALL passes it once, not again when the
  // TDCALL runs again for the program's answer: on to the end, the program exits 0 and
  // gdb is told so.
  EXPECT_EQ(c.ask("Z0,fffff08f,1"), "OK");
  EXPECT_EQ(c.ask("c"), "T05swbreak:;thread:1;");
  EXPECT_EQ(reg32(c, kEip), kSecondReport);
  EXPECT_EQ(c.ask("c"), "W00");
  EXPECT_EQ(prog.wait(std::chrono::seconds(60)), 0) << prog.output();
  EXPECT_NE(prog.output().find("PASS: td_raw run"), std::string::npos) << prog.output();
  std::remove(pages.c_str());
}

// gdb going away while it holds the TD lets the program run on to its end.
TEST(TdsimExecGdb, ADisconnectedGdbLetsTheProgramFinish) {
  const std::string pages = testing::TempDir() + "/td_raw_gdb_gone." + std::to_string(getpid());
  Child prog(td_raw_under_gdb(pages));
  const auto port = gdb_port(prog);
  ASSERT_TRUE(port) << prog.output();
  {
    Client c(*port);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.ask("Z0,fffff000,1"), "OK");  // cleared when gdb goes
    EXPECT_EQ(c.ask("?"), "T05thread:01;");
  }
  EXPECT_EQ(prog.wait(std::chrono::seconds(60)), 0) << prog.output();
  EXPECT_NE(prog.output().find("PASS: td_raw run"), std::string::npos) << prog.output();
  std::remove(pages.c_str());
}

TEST(TdsimExecGdb, ANonLoopbackAddressIsAUsageError) {
  Child prog(std::string(TDSIM_BIN) + " exec --gdb 10.0.0.1:1234 -- /bin/true");
  EXPECT_EQ(prog.wait(std::chrono::seconds(30)), 64);
  EXPECT_NE(prog.output().find("--gdb"), std::string::npos) << prog.output();
}

}  // namespace
