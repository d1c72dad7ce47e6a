// Every guest of the vertical slice, run on Unicorn and on plain KVM from one image:
// the per-vCPU ucall streams and the outcome must agree (core/event_diff.h).
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "core/event_diff.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/guest_config.h"
#include "tests/guests/boot_state_report.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

struct Case {
  const char* name;
  const char* elf;
  uint32_t vcpus;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name << "/" << c.vcpus; }

class BackendDiff : public ::testing::TestWithParam<Case> {};

std::string dump(const std::vector<Event>& events) {
  std::string s;
  for (const Event& e : events) s += "  " + describe(e) + "\n";
  return s;
}

TEST_P(BackendDiff, UnicornAndKvmAgree) {
  const kvm::HostProbe probe = kvm::probe_host();
  if (!probe.kvm_usable) GTEST_SKIP() << "plain KVM unusable here: " << probe.backend("kvm")->reason;

  LayoutSpec spec;
  spec.guest_elf = test::read_asset(GetParam().elf);
  spec.guest_elf_name = GetParam().name;
  spec.nr_vcpus = GetParam().vcpus;
  const TdImage image = build_image(spec);
  RunLimits limits;
  limits.max_insns = 50'000'000;
  limits.timeout = std::chrono::seconds(20);

  UnicornBackend unicorn;
  KvmBackend kvm;
  auto a = run_collect(unicorn, image, limits);
  const auto b = run_collect(kvm, image, limits);
  auto d = first_divergence(a, b, image.nr_vcpus);
  EXPECT_FALSE(d.has_value()) << "vcpu " << (d && d->vcpu ? std::to_string(*d->vcpu) : "-") << " #"
                              << (d ? d->index : 0) << "\n unicorn: " << (d ? d->left : "")
                              << "\n kvm:     " << (d ? d->right : "") << "\nunicorn stream:\n"
                              << dump(a) << "kvm stream:\n" << dump(b);
  // Agreeing on a broken run would prove nothing: these guests all finish.
  EXPECT_NE(classify(a, image.nr_vcpus), Outcome::kBudget) << dump(a);
}

INSTANTIATE_TEST_SUITE_P(
    Guests, BackendDiff,
    ::testing::Values(Case{"hello", TDSIM_GUEST_HELLO_ELF, 1}, Case{"hello", TDSIM_GUEST_HELLO_ELF, 3},
                      Case{"assert", TDSIM_GUEST_ASSERT_ELF, 1},
                      Case{"boot_state", TDSIM_GUEST_BOOT_STATE_ELF, 1},
                      Case{"boot_state", TDSIM_GUEST_BOOT_STATE_ELF, 2},
                      Case{"smp", TDSIM_GUEST_SMP_ELF, 1}, Case{"smp", TDSIM_GUEST_SMP_ELF, 2},
                      Case{"smp", TDSIM_GUEST_SMP_ELF, 4},
                      Case{"printf_cases", TDSIM_GUEST_PRINTF_CASES_ELF, 1},
                      Case{"private_gpa_ucall", TDSIM_GUEST_PRIVATE_GPA_UCALL_ELF, 1},
                      Case{"bad_ucall_address", TDSIM_GUEST_BAD_UCALL_ADDRESS_ELF, 1}),
    [](const auto& info) { return std::string(info.param.name) + "_" + std::to_string(info.param.vcpus); });

}  // namespace
}  // namespace tdsim

namespace tdsim {
namespace {

// Both backends deliver the #UD through the guest's IDT; the runtime's stub reports
// UCALL_UNHANDLED with the vector, error code and RIP: the streams agree entirely.
TEST(BackendDiffKnown, UnhandledExceptionAgreesThroughTheGuestIdt) {
  const kvm::HostProbe probe = kvm::probe_host();
  if (!probe.kvm_usable) GTEST_SKIP() << "plain KVM unusable here: " << probe.backend("kvm")->reason;
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_UNHANDLED_UD_ELF);
  const TdImage image = build_image(spec);
  RunLimits limits;
  limits.timeout = std::chrono::seconds(20);
  UnicornBackend unicorn;
  KvmBackend kvm;
  const auto a = run_collect(unicorn, image, limits);
  const auto b = run_collect(kvm, image, limits);
  const UcallEvent* unhandled = nullptr;
  for (const Event& e : a)
    if (auto* u = std::get_if<UcallEvent>(&e); u && u->cmd == abi::kUcallUnhandled) unhandled = u;
  ASSERT_NE(unhandled, nullptr) << dump(a);
  EXPECT_EQ(unhandled->args[abi::kUnhandledArgVector], 6u);
  const auto d = first_divergence(a, b, image.nr_vcpus);
  EXPECT_FALSE(d.has_value()) << "unicorn:\n" << dump(a) << "kvm:\n" << dump(b);
}

}  // namespace
}  // namespace tdsim
