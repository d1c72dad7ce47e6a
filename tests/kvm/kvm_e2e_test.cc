// End to end on plain KVM: real guests laid out by build_image() with the built-in stub,
// booted from 0xfffffff0 in a KVM VM. Outcomes must be what the guests were written for.
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "kvm_skip.h"
#include "tests/guests/boot_state_report.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

std::vector<Event> run_guest(const char* elf, uint32_t vcpus, int timeout_ms = 10000) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.guest_elf_name = elf;
  spec.nr_vcpus = vcpus;
  KvmBackend be;
  RunLimits l;
  l.timeout = std::chrono::milliseconds(timeout_ms);
  return run_collect(be, build_image(spec), l);
}

std::string dump(const std::vector<Event>& evs) {
  std::string s;
  for (const Event& e : evs) s += describe(e) + "\n";
  return s;
}

TEST(KvmEndToEnd, HelloIsDone) {
  TDSIM_REQUIRE_PLAIN_KVM();
  auto evs = run_guest(TDSIM_GUEST_HELLO_ELF, 1);
  EXPECT_EQ(classify(evs, 1), Outcome::kDone) << dump(evs);
}

TEST(KvmEndToEnd, AssertReportsAbortWithExpression) {
  TDSIM_REQUIRE_PLAIN_KVM();
  auto evs = run_guest(TDSIM_GUEST_ASSERT_ELF, 1);
  EXPECT_EQ(classify(evs, 1), Outcome::kGuestAssert) << dump(evs);
  ASSERT_FALSE(evs.empty());
  auto* u = std::get_if<UcallEvent>(&evs.back());
  ASSERT_NE(u, nullptr) << dump(evs);
  EXPECT_EQ(u->cmd, abi::kUcallAbort);
  ASSERT_TRUE(u->assertion.has_value());
  EXPECT_NE(u->assertion->file.find("assert.cc"), std::string::npos);
}

TEST(KvmEndToEnd, BootStateAfterTheBuiltinStub) {
  TDSIM_REQUIRE_PLAIN_KVM();
  namespace bs = test::boot_state;
  auto evs = run_guest(TDSIM_GUEST_BOOT_STATE_ELF, 1);
  EXPECT_EQ(classify(evs, 1), Outcome::kDone) << dump(evs);
  std::map<uint64_t, uint64_t> seen;
  for (const Event& e : evs)
    if (auto* u = std::get_if<UcallEvent>(&e); u && u->cmd == abi::kUcallSync)
      seen[u->args[bs::kArgKey]] = u->args[bs::kArgValue];
  ASSERT_TRUE(seen.count(bs::kCr0)) << dump(evs);
  EXPECT_EQ(seen[bs::kCr0] & 0x80000021u, 0x80000021u);  // PG | NE | PE
  EXPECT_EQ(seen[bs::kEfer] & 0xd01u, 0xd01u);           // LMA set, EFER never written
  EXPECT_EQ(seen[bs::kEntryRspAbiOk], 1u);
  EXPECT_EQ(seen[bs::kVcpuIndex], 0u);
  EXPECT_EQ(seen[bs::kRflags] & (1u << 9), 0u);          // IF still clear
}

class KvmEndToEndSmp : public ::testing::TestWithParam<uint32_t> {};

TEST_P(KvmEndToEndSmp, EveryVcpuPassesTheBarrier) {
  TDSIM_REQUIRE_PLAIN_KVM();
  const uint32_t n = GetParam();
  auto evs = run_guest(TDSIM_GUEST_SMP_ELF, n);
  EXPECT_EQ(classify(evs, n), Outcome::kDone) << dump(evs);
}

INSTANTIATE_TEST_SUITE_P(Vcpus, KvmEndToEndSmp, ::testing::Values(1u, 2u, 4u));

TEST(KvmEndToEnd, LoopForeverEndsByWallClock) {
  TDSIM_REQUIRE_PLAIN_KVM();
  auto evs = run_guest(TDSIM_GUEST_LOOP_FOREVER_ELF, 1, 300);
  EXPECT_EQ(classify(evs, 1), Outcome::kBudget) << dump(evs);
  ASSERT_FALSE(evs.empty());
  auto* b = std::get_if<BudgetExceededEvent>(&evs.back());
  ASSERT_NE(b, nullptr) << dump(evs);
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kWallClock);
}

}  // namespace
}  // namespace tdsim
