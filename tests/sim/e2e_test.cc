// End to end on the Unicorn backend with the real layout (build_image) and the test
// guests: outcomes and the events that matter. (tests/guests/e2e_unicorn_test.cc checks
// the guest runtime's own promises on this backend; these check the backend's.)
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "sim/session.h"
#include "sim_test_util.h"
#include "tests/guests/test_assets.h"

namespace tdsim::simtest {
namespace {

TdImage guest_image(const char* elf, uint32_t nr_vcpus = 1, std::vector<uint8_t> stub = {}) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.guest_elf_name = elf;
  spec.nr_vcpus = nr_vcpus;
  spec.stub = std::move(stub);
  return build_image(spec);
}

std::string dump(const std::vector<Event>& ev) {
  std::string s;
  for (const Event& e : ev) s += describe(e) + "\n";
  return s;
}

TEST(UnicornE2e, HelloEndsWithDone) {
  const auto ev = run_image(guest_image(TDSIM_GUEST_HELLO_ELF), limits(50'000'000, 20'000));
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(classify(ev, 1), Outcome::kDone) << dump(ev);
  EXPECT_EQ(as<UcallEvent>(ev.back()).cmd, abi::kUcallDone) << dump(ev);
}

// 5-level paging (LA57): the engine walks a PML5, the stub sets CR4.LA57 before paging.
TEST(UnicornE2e, HelloWithFiveLevelPagingEndsWithDone) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
  spec.gpaw = 52;
  spec.paging_levels = 5;
  const auto ev = run_image(build_image(spec), limits(50'000'000, 20'000));
  EXPECT_EQ(classify(ev, 1), Outcome::kDone) << dump(ev);
}

TEST(UnicornE2e, SmpEveryVcpuDone) {
  for (uint32_t n : {1u, 2u, 4u}) {
    const auto ev = run_image(guest_image(TDSIM_GUEST_SMP_ELF, n), limits(200'000'000, 30'000));
    EXPECT_EQ(classify(ev, n), Outcome::kDone) << n << " vCPUs\n" << dump(ev);
  }
}

TEST(UnicornE2e, SmpIsDeterministicAcrossSessionResets) {
  const TdImage im = guest_image(TDSIM_GUEST_SMP_ELF, 4);
  sim::Session s(im);
  std::vector<std::string> a, b;
  s.run(limits(200'000'000, 30'000), [&](const Event& e) { a.push_back(describe(e)); });
  s.run(limits(200'000'000, 30'000), [&](const Event& e) { b.push_back(describe(e)); });
  EXPECT_EQ(a, b);
}

TEST(UnicornE2e, BadUcallAddressIsGuestMemoryError) {
  const auto ev = run_image(guest_image(TDSIM_GUEST_BAD_UCALL_ADDRESS_ELF));
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  EXPECT_TRUE(std::holds_alternative<GuestMemoryErrorEvent>(ev[0])) << dump(ev);
}

TEST(UnicornE2e, LoopForeverRunsOutOfBudget) {
  const auto ev = run_image(guest_image(TDSIM_GUEST_LOOP_FOREVER_ELF), limits(2'000'000, 20'000));
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(classify(ev, 1), Outcome::kBudget) << dump(ev);
}

TEST(UnicornE2e, NoPaeStubFaults) {
  const auto ev = run_image(guest_image(TDSIM_GUEST_HELLO_ELF, 1,
                                        test::read_asset(TDSIM_STUB_NO_PAE_BIN)),
                            limits(2'000'000, 20'000));
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(classify(ev, 1), Outcome::kFault) << dump(ev);
  for (const Event& e : ev) EXPECT_FALSE(std::holds_alternative<UcallEvent>(e)) << dump(ev);
}

}  // namespace
}  // namespace tdsim::simtest
