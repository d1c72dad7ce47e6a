// A backend this host lacks is a kselftest skip (exit 4) with the reason, in every
// format and for conformance: here /dev/kvm is hidden from tdsim in a private mount
// namespace (needs root or user namespaces; skipped where `unshare -m` is refused).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/outputs/ktap_parser.h"

namespace tdsim::ktaptest {
namespace {

struct Shell {
  int exit_code = -1;
  std::string out;
};

Shell shell(const std::string& cmd) {
  Shell r;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

// tdsim ARGS with an empty /dev: no /dev/kvm. stdout only.
Shell without_dev_kvm(const std::string& args) {
  return shell("unshare -m sh -c 'mount -t tmpfs none /dev && exec " + std::string(TDSIM_BIN) + " " + args +
               "' 2>/dev/null");
}

class NoDevKvm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shell("unshare -m sh -c 'mount -t tmpfs none /dev' >/dev/null 2>&1; echo $?").out != "0\n")
      GTEST_SKIP() << "cannot hide /dev/kvm here (unshare -m / mount refused)";
  }
};

TEST_F(NoDevKvm, RunIsASkipInEveryFormat) {
  const Shell text = without_dev_kvm("run --backend kvm");
  EXPECT_EQ(text.exit_code, 4) << text.out;
  EXPECT_EQ(text.out, "tdsim: SKIP on kvm: kvm cannot run on this host: /dev/kvm does not exist (KVM not loaded "
                      "or no VT-x/AMD-V) (exit 4)\n");
  const Shell json = without_dev_kvm("run --backend kvm --format json");
  EXPECT_EQ(json.exit_code, 4) << json.out;
  const auto summary = nlohmann::json::parse(json.out.substr(json.out.find('\n') + 1));
  EXPECT_EQ(summary["outcome"], "SKIP");
  EXPECT_NE(summary["skip_reason"].get<std::string>().find("/dev/kvm does not exist"), std::string::npos);
  const Shell ktap = without_dev_kvm("run --backend kvm --format ktap --vcpus 3");
  EXPECT_EQ(ktap.exit_code, 4) << ktap.out;
  const KtapDocument d = parse_ktap(ktap.out);
  ASSERT_TRUE(d.valid()) << describe_problems(d) << ktap.out;
  ASSERT_EQ(d.top.results.size(), 3u);
  for (const KtapResult& r : d.top.results) {
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.directive, "SKIP");
    EXPECT_NE(r.diagnostic.find("/dev/kvm does not exist"), std::string::npos);
  }
}

TEST_F(NoDevKvm, ConformanceAndDiffAreASkip) {
  const Shell conf = without_dev_kvm("conformance --backend kvm");
  EXPECT_EQ(conf.exit_code, 4) << conf.out;
  const KtapDocument d = parse_ktap(conf.out);
  ASSERT_TRUE(d.valid()) << describe_problems(d) << conf.out;
  for (const KtapResult& g : d.top.results) EXPECT_EQ(g.directive, "SKIP") << g.description;
  const Shell diff = without_dev_kvm("diff --backends unicorn,kvm");
  EXPECT_EQ(diff.exit_code, 4) << diff.out;
  EXPECT_NE(diff.out.find("tdsim diff: SKIP: kvm cannot run on this host: /dev/kvm does not exist"), std::string::npos)
      << diff.out;
}

}  // namespace
}  // namespace tdsim::ktaptest
