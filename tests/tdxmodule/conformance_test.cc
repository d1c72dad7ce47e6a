// The conformance suite end to end: all checks pass on Unicorn, TDX-only ones SKIP on
// plain KVM (never pass), hostile hosts make the matching checks fail, and the CLI
// prints nested KTAP in the catalogue's order on every backend, exit 0/1/4.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "conformance/catalogue.h"
#include "conformance/conformance_abi.h"
#include "conformance/runner.h"
#include "core/backend.h"
#include "kvm/kvm_backend.h"
#include "kvm/plain_machine.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::tdxtest {
namespace {

using conformance::CheckResult;
using Status = CheckResult::Status;

const CheckResult* find(const conformance::SuiteResult& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

std::string failures(const conformance::SuiteResult& r) {
  std::string s;
  for (const auto& c : r.checks)
    if (c.status == Status::kFail) s += c.name + ": " + c.detail + "\n";
  return s;
}

// The suite on a Unicorn backend whose TDX module stand-in has `cfg` (hostile hooks),
// with the MRTD device installed by the runner.
conformance::SuiteResult run_on_unicorn(const conformance::SuiteOptions& o, tdx::TdxConfig cfg = {}) {
  UnicornBackend b(std::move(cfg));
  return conformance::run_suite(b, o);
}

TEST(Conformance, AllChecksPassOnUnicorn) {
  const auto r = run_on_unicorn({});
  EXPECT_EQ(r.failures(), 0) << failures(r);
  EXPECT_GT(r.count(Status::kPass), 80);
  for (const char* n : {"mr_report.mrtd_matches_host_prediction", "vp_info.vcpu_index[vcpu1]",
                        "map_gpa.unaligned", "vmcall.unexposed_inputs_read_zero", "run.vcpu1_completed"}) {
    const CheckResult* c = find(r, n);
    ASSERT_NE(c, nullptr) << n;
    EXPECT_EQ(c->status, Status::kPass) << n;
  }
}

TEST(Conformance, Gpaw52AndFourVcpusOnUnicorn) {
  conformance::SuiteOptions o;
  o.gpaw = 52;
  o.nr_vcpus = 4;
  const auto r = run_on_unicorn(o);
  EXPECT_EQ(r.failures(), 0) << failures(r);
  ASSERT_NE(find(r, "vp_info.vcpu_index[vcpu3]"), nullptr);
}

// Plain KVM runs the suite with the TDCALL emulation. The guest runs its TDX checks only
// where CPUID leaf 0x21 says "IntelTDX", which plain KVM shows where this host's KVM takes
// the TD CPUID model (KVM_SET_CPUID2; kvm::plain_kvm_cpuid_fidelity says what it shows): there
// every check has Unicorn's status; elsewhere each TDX-only check is a SKIP naming
// CPUID 0x21, never a PASS outside a TD.
TEST(Conformance, TdxOnlyChecksOnPlainKvmFollowItsCpuid) {
  KvmBackend kvm;
  conformance::SuiteResult r;
  try {
    r = conformance::run_suite(kvm, conformance::SuiteOptions{});
  } catch (const BackendError& e) {
    GTEST_SKIP() << "plain KVM unusable here: " << e.what();
  }
  EXPECT_EQ(r.failures(), 0) << failures(r);
  if (const CpuidFidelity& f = kvm::plain_kvm_cpuid_fidelity(); f.shows_leaf(0) && f.shows_leaf(0x21)) {
    const auto uc = run_on_unicorn({});
    for (const char* n : {"vp_info.status", "vp_info.status[vcpu1]", "tdcall.unknown_leaf", "map_gpa.unaligned",
                          "mmio.plain_vm_write_read_1_2_4_8"}) {
      const CheckResult* k = find(r, n);
      const CheckResult* u = find(uc, n);
      ASSERT_NE(k, nullptr) << n;
      ASSERT_NE(u, nullptr) << n;
      EXPECT_EQ(k->status, u->status) << n << ": " << k->detail;
    }
    EXPECT_EQ(find(r, "vp_info.status")->status, Status::kPass);
    return;
  }
  for (const auto& c : r.checks) {
    const bool tdx_only = c.name.rfind("vp_info", 0) == 0 || c.name.rfind("mr_report", 0) == 0 ||
                          c.name.rfind("vmcall", 0) == 0 || c.name.rfind("cpuid", 0) == 0;
    EXPECT_FALSE(tdx_only && c.status == Status::kPass) << c.name << " passed outside a TD";
  }
  // The guest's one skip for its TDX-leaf block becomes a SKIP of each check in it, so
  // the numbering is the one a TD run has.
  for (const char* n : {"vp_info.status", "vp_info.status[vcpu1]", "tdcall.unknown_leaf", "map_gpa.unaligned"}) {
    const CheckResult* s = find(r, n);
    ASSERT_NE(s, nullptr) << n;
    EXPECT_EQ(s->status, Status::kSkip) << n;
    EXPECT_NE(s->detail.find("CPUID 0x21"), std::string::npos) << s->detail;
  }
  EXPECT_EQ(find(r, "tdx_leaves"), nullptr) << "block skips are not checks of their own";
  EXPECT_EQ(find(r, "mmio.plain_vm_write_read_1_2_4_8")->status, Status::kPass);
}

// Stable numbering: the same checks in the same order whatever the backend does, from
// the host's catalogue; a backend that cannot run skips every one of them.
TEST(Conformance, EveryBackendListsTheCatalogueInOrder) {
  const auto skipped = conformance::skipped_suite("kvm-tdx", 2, "no TDX here");
  const auto cat = conformance::catalogue(2);
  ASSERT_EQ(skipped.checks.size(), cat.size());
  for (size_t i = 0; i < cat.size(); ++i) {
    EXPECT_EQ(skipped.checks[i].name, cat[i].name);
    EXPECT_EQ(skipped.checks[i].status, Status::kSkip);
  }
  EXPECT_EQ(conformance::exit_code(skipped), 4);
  KvmBackend kvm;
  conformance::SuiteResult r;
  try {
    r = conformance::run_suite(kvm, conformance::SuiteOptions{});
  } catch (const BackendError& e) {
    GTEST_SKIP() << "plain KVM unusable here: " << e.what();
  }
  ASSERT_EQ(r.checks.size(), cat.size()) << failures(r);
  for (size_t i = 0; i < cat.size(); ++i) EXPECT_EQ(r.checks[i].name, cat[i].name) << i;
}

// A check the guest reports that the catalogue lacks, or one it never reports, fails:
// the host's list cannot silently drift from the guest.
TEST(Conformance, UncataloguedAndMissingChecksFail) {
  struct FakeGuest : Backend {
    std::string name() const override { return "fake"; }
    void set_mmio_read(MmioReadHandler) override {}
    void run(const TdImage&, const RunLimits&, const EventSink& sink) override {
      UcallEvent u;
      u.cmd = abi::kUcallPrintf;
      u.text = "conformance: ok boot.guest_config";
      sink(u);
      u.text = "conformance: ok boot.not_in_catalogue";
      sink(u);
      u.text = "conformance: ok boot.guest_config";
      sink(u);
      u.cmd = abi::kUcallDone;
      sink(u);
    }
  } fake;
  conformance::SuiteOptions o;
  o.nr_vcpus = 1;
  const auto r = conformance::run_suite(fake, conformance::build_suite_image(o), o.limits);
  EXPECT_EQ(find(r, "boot.guest_config")->detail, "reported more than once");
  EXPECT_EQ(find(r, "boot.cr0_from_params")->status, Status::kFail);
  EXPECT_EQ(find(r, "boot.cr0_from_params")->detail, "the guest never reported this check");
  ASSERT_NE(find(r, "boot.not_in_catalogue"), nullptr);
  EXPECT_EQ(find(r, "boot.not_in_catalogue")->status, Status::kFail);
  EXPECT_EQ(r.checks.back().group, "uncatalogued");
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  conformance::print_ktap(f, r);
  std::fclose(f);
  const std::string out(buf, len);
  free(buf);
  EXPECT_NE(out.find("  # Subtest: uncatalogued\n  1..1\n  # boot.not_in_catalogue: reported by the guest"),
            std::string::npos) << out;
  EXPECT_EQ(find(r, "run.vcpu0_completed")->status, Status::kPass);
  EXPECT_EQ(conformance::exit_code(r), 1);
}

TEST(Conformance, HostileHostMakesTheMatchingChecksFail) {
  conformance::SuiteOptions o;
  o.nr_vcpus = 1;
  tdx::TdxConfig c;
  c.hooks.vmcall = [](const tdx::VmcallRequest& q) -> std::optional<tdx::VmcallReply> {
    if (q.regs.r11 == abi::kVmcallCpuid && q.regs.r12 == 0x80000008)
      return tdx::VmcallReply{0, {}, 0x00200000 /* GPAW 32 */, 0, 0, 0};
    if (q.regs.r11 == abi::kVmcallSetupEventNotifyInterrupt) return tdx::VmcallReply{abi::kVmcallInvalidOperand};
    return std::nullopt;
  };
  const auto r = run_on_unicorn(o, std::move(c));
  EXPECT_EQ(find(r, "cpuid.80000008_gpaw")->status, Status::kFail);
  EXPECT_EQ(find(r, "setup_event_notify.vector_64")->status, Status::kFail);
  EXPECT_EQ(r.failures(), 2) << failures(r);
}

TEST(Conformance, MapGpaRetryIsFollowedByTheGuest) {
  conformance::SuiteOptions o;
  o.nr_vcpus = 1;
  int retries = 0;
  std::optional<uint64_t> first;
  tdx::TdxConfig c;
  c.hooks.vmcall = [&](const tdx::VmcallRequest& q) -> std::optional<tdx::VmcallReply> {
    // The first conversion of the guest's page: RETRY with nothing done (R11 = start).
    if (q.regs.r11 != abi::kVmcallMapGpa) return std::nullopt;
    if (!first) first = q.regs.r12;
    if (q.regs.r12 == *first && retries++ == 0) return tdx::VmcallReply{abi::kVmcallRetry, q.regs.r12};
    return std::nullopt;
  };
  const auto r = run_on_unicorn(o, std::move(c));
  EXPECT_EQ(retries, 2) << "the guest re-issued the call from R11";
  EXPECT_EQ(find(r, "map_gpa.to_shared")->status, Status::kPass);
  EXPECT_EQ(r.failures(), 0) << failures(r);
}

TEST(Conformance, MrtdMismatchIsDetectedByTheGuest) {
  conformance::SuiteOptions o;
  o.nr_vcpus = 1;
  const TdImage image = conformance::build_suite_image(o);
  const MmioReadHandler honest = conformance::mrtd_device(image);
  const uint64_t first_digest_word = image.ucall_mmio_gpa + conformance::kMrtdDeviceOffset + 8;
  UnicornBackend b;
  b.set_mmio_read([&](uint32_t v, uint64_t g, uint32_t l) -> std::optional<uint64_t> {
    auto x = honest(v, g, l);
    if (x && g == first_digest_word) return *x ^ 1;  // flip one MRTD bit
    return x;
  });
  const auto r = conformance::run_suite(b, image, o.limits);
  EXPECT_EQ(find(r, "mr_report.mrtd_matches_host_prediction")->status, Status::kFail);
  EXPECT_EQ(r.failures(), 1) << failures(r);
}

TEST(Conformance, WithoutTheMrtdDeviceTheMrtdCheckSkipsAndNeverPasses) {
  conformance::SuiteOptions o;
  o.nr_vcpus = 1;
  UnicornBackend b;
  const auto r = conformance::run_suite(b, conformance::build_suite_image(o), o.limits);
  const CheckResult* c = find(r, "mr_report.mrtd_matches_host_prediction");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, Status::kSkip);
  EXPECT_NE(c->detail.find("no MRTD device"), std::string::npos) << c->detail;
  EXPECT_EQ(r.failures(), 0) << failures(r);
}

TEST(Conformance, MrtdDeviceRegisters) {
  const TdImage image = conformance::build_suite_image({});
  const MmioReadHandler dev = conformance::mrtd_device(image);
  const uint64_t base = image.ucall_mmio_gpa + conformance::kMrtdDeviceOffset;
  EXPECT_EQ(dev(0, base, 8), conformance::kMrtdMagic);
  EXPECT_TRUE(dev(0, base + 48, 8).has_value());
  EXPECT_FALSE(dev(0, base + 56, 8).has_value()) << "past the 48-byte digest";
  EXPECT_FALSE(dev(0, base + 4, 8).has_value()) << "unaligned";
  EXPECT_FALSE(dev(0, base, 4).has_value()) << "only 8-byte reads";
  EXPECT_FALSE(dev(0, base - 8, 8).has_value());
}

TEST(Conformance, KtapFormatAndExitCode) {
  conformance::SuiteResult r;
  r.backend = "x";
  r.checks = {{Status::kPass, "g.a", "", "g"}, {Status::kFail, "g.b", "why\r\x1b", "g"},
              {Status::kSkip, "h.c", "reason", "h"}, {Status::kSkip, "i.d", "off", "i"},
              {Status::kPass, "i.e", "", "i"}};
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  conformance::print_ktap(f, r);
  std::fclose(f);
  const std::string out(buf, len);
  free(buf);
  EXPECT_EQ(out,
            "KTAP version 1\n# tdsim conformance on backend x\n1..3\n"
            "  KTAP version 1\n  # Subtest: g\n  1..2\n  ok 1 a\n  # b: why\\x0d\\x1b\n  not ok 2 b\nnot ok 1 g\n"
            "  KTAP version 1\n  # Subtest: h\n  1..1\n  ok 1 c # SKIP reason\nok 2 h # SKIP reason\n"
            "  KTAP version 1\n  # Subtest: i\n  1..2\n  ok 1 d # SKIP off\n  ok 2 e\nok 3 i\n"
            "# Totals: pass:2 fail:1 skip:2\n");
  // kselftest's codes, never a count (4 failures would read as a skip).
  EXPECT_EQ(conformance::exit_code(r), 1);
  r.checks.assign(4, {Status::kFail, "f.f", "", "f"});
  EXPECT_EQ(conformance::exit_code(r), 1);
  r.checks.assign(4, {Status::kSkip, "f.f", "", "f"});
  EXPECT_EQ(conformance::exit_code(r), 4);
  r.checks.push_back({Status::kPass, "f.g", "", "f"});
  EXPECT_EQ(conformance::exit_code(r), 0);
}

TEST(Conformance, ParseCheckLine) {
  CheckResult c;
  EXPECT_TRUE(conformance::parse_check_line("conformance: not ok x.y # got 1, want 2", c));
  EXPECT_EQ(c.status, Status::kFail);
  EXPECT_EQ(c.name, "x.y");
  EXPECT_EQ(c.detail, "got 1, want 2");
  EXPECT_FALSE(conformance::parse_check_line("hello", c));
}

// `tdsim conformance ARGS`: its exit status and everything it printed.
std::pair<int, std::string> conformance_cli(const std::string& args) {
  const std::string cmd = std::string(TDSIM_CLI_BINARY) + " conformance " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(Conformance, CliPrintsKtapAndExitsZero) {
  const auto [code, out] = conformance_cli("--backend unicorn");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.rfind("KTAP version 1\n", 0), 0u) << out;
  EXPECT_NE(out.find("  # Subtest: boot\n  1..26\n  ok 1 guest_config\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("not ok"), std::string::npos) << out;
}

// A backend this host cannot run is a skip (4), with every check listed as a SKIP.
TEST(Conformance, CliBackendThatCannotRunSkips) {
  if (kvm::probe_host().tdx_usable) GTEST_SKIP() << "this host runs TDs";
  const auto [code, out] = conformance_cli("--backend kvm-tdx");
  EXPECT_EQ(code, 4) << out;
  EXPECT_NE(out.find("\n1..17\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ok 1 boot # SKIP kvm-tdx cannot run on this host: "), std::string::npos) << out;
  EXPECT_EQ(out.find("not ok"), std::string::npos) << out;
}

// The MRTD device is offered through the Backend interface, so every backend the CLI
// makes has it: --backend auto (unicorn here, kvm-tdx on a TDX host) compares the MRTD
// for real instead of skipping the check, as it did when only "unicorn" got the device.
TEST(Conformance, CliAutoBackendComparesTheMrtd) {
  const auto [code, out] = conformance_cli("--backend auto --vcpus 1");
  EXPECT_EQ(code, 0) << out;
  // Nested under the mr_report group, two spaces in.
  const size_t at = out.find(" mrtd_matches_host_prediction");
  ASSERT_NE(at, std::string::npos) << out;
  const size_t start = out.rfind('\n', at) + 1;
  const std::string line = out.substr(start, out.find('\n', at) - start);
  EXPECT_EQ(line.rfind("  ok ", 0), 0u) << line;
  EXPECT_EQ(line.find("SKIP"), std::string::npos) << line;
}

}  // namespace
}  // namespace tdsim::tdxtest
