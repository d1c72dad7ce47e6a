// Issue 13, class 5: `tdsim run` must not keep its events. A guest that sends PRINTF
// after PRINTF runs for 1 s and for 5 s (wall-clock budget, exit 3); the longer run's
// peak RSS (the child's ru_maxrss from wait4) must stay within 2x of the short one's.
// A host that stored every event grew by hundreds of MB per second here. Longer soak
// figures (60 s) are in docs/reliability.md, not in the timed suite.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Child {
  int exit_code = -1;
  long max_rss_kib = 0;
};

// Runs tdsim with stdout and stderr to /dev/null; returns its exit code and peak RSS.
Child run_tdsim(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string bin = TDSIM_BIN;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  Child c;
  int st = 0;
  rusage ru{};
  if (pid > 0 && ::wait4(pid, &st, 0, &ru) == pid) {
    c.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    c.max_rss_kib = ru.ru_maxrss;
  }
  return c;
}

Child flood(const std::string& backend, const std::string& seconds) {
  return run_tdsim({"run", "--backend", backend, "--guest", TDSIM_HOSTILE_PRINTF_FLOOD_ELF, "--max-insns",
                    "100000000000000", "--timeout", seconds, "--no-lint"});
}

// Under AddressSanitizer freed memory waits in a quarantine (256 MiB by default), so a
// child's peak RSS grows with how much it ever freed. The children run with no
// quarantine: their RSS is then live memory plus shadow again, and the comparison holds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
constexpr bool kAsan = __has_feature(address_sanitizer);
#else
constexpr bool kAsan = false;
#endif

void no_quarantine_for_children() {
  if (!kAsan) return;
  const char* old = std::getenv("ASAN_OPTIONS");
  const std::string opts = std::string(old ? old : "") + (old && *old ? ":" : "") +
                           "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  ::setenv("ASAN_OPTIONS", opts.c_str(), 1);
}

void expect_flat(const std::string& backend) {
  no_quarantine_for_children();
  const Child short_run = flood(backend, "1");
  // 4 = the backend cannot run on this host (kselftest's skip), said on the output.
  if (short_run.exit_code == 4) GTEST_SKIP() << backend << " cannot run here";
  const Child long_run = flood(backend, "5");
  // 124 = the wall-clock budget ended the flood (the guest never stops on its own).
  EXPECT_EQ(short_run.exit_code, 124);
  EXPECT_EQ(long_run.exit_code, 124);
  ASSERT_GT(short_run.max_rss_kib, 0);
  EXPECT_LE(long_run.max_rss_kib, 2 * short_run.max_rss_kib)
      << backend << ": peak RSS " << short_run.max_rss_kib << " KiB after 1 s, " << long_run.max_rss_kib
      << " KiB after 5 s";
}

TEST(FloodRss, PeakRssStaysFlatOnKvm) { expect_flat("kvm"); }
TEST(FloodRss, PeakRssStaysFlatOnUnicorn) { expect_flat("unicorn"); }

}  // namespace
