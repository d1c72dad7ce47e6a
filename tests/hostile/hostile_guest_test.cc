// Hostile guests end with one precise event on every backend, and the host survives
// them: bad ucall pointers, unterminated strings, a TDCALL storm, self-modifying stub
// and guest code, boot structures clobbered after boot.
#include <gtest/gtest.h>

#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "tests/guests/test_assets.h"
#include "tests/hostile/hostile_keys.h"
#include "tests/hostile/hostile_run.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::hostiletest {
namespace {

namespace hk = test::hostile;

class HostileGuest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (std::string why = unavailable(GetParam()); !why.empty()) GTEST_SKIP() << why;
  }
  bool kvm() const { return GetParam() == Engine::kKvm; }
};

// The vCPU's last event must be a GuestMemoryErrorEvent for exactly [gpa, +size).
void expect_memory_error(const std::vector<Event>& evs, uint32_t vcpu, uint64_t gpa, uint64_t size,
                         const std::string& what) {
  const Event* last = last_of_vcpu(evs, vcpu);
  ASSERT_NE(last, nullptr) << "vcpu " << vcpu << "\n" << dump(evs);
  const auto* m = std::get_if<GuestMemoryErrorEvent>(last);
  ASSERT_NE(m, nullptr) << "vcpu " << vcpu << "\n" << dump(evs);
  EXPECT_EQ(m->gpa, gpa) << dump(evs);
  EXPECT_EQ(m->size, size) << dump(evs);
  EXPECT_NE(m->what.find(what), std::string::npos) << m->what;
}

TEST_P(HostileGuest, UcallPointersOutsideMemoryStraddlingOrInTheHoleAreRefused) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_UCALL_POINTERS_ELF, 3));
  const auto evs = run(GetParam(), img);
  const uint64_t mem_size = img.ucall_mmio_gpa;  // default layout: the hole starts at mem_size
  expect_memory_error(evs, 0, hk::kPastFourGiB, sizeof(abi::Ucall), "ucall struct outside guest memory");
  expect_memory_error(evs, 1, mem_size - hk::kStraddle, sizeof(abi::Ucall), "ucall struct outside guest memory");
  expect_memory_error(evs, 2, mem_size, sizeof(abi::Ucall), "ucall struct outside guest memory");
  EXPECT_TRUE(all_of<UcallEvent>(evs).empty()) << dump(evs);
}

TEST_P(HostileGuest, WildAssertFileLongFileAndUnterminatedPrintfAreRefused) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_BAD_STRINGS_ELF, 3));
  const auto evs = run(GetParam(), img);
  const uint64_t slot2 = img.ucall_pool_gpa + offsetof(abi::UcallPool, slots) + 2 * sizeof(abi::Ucall);
  expect_memory_error(evs, 0, hk::kWildFilePointer, 4096, "assert file name string outside guest memory");
  const Symbol* long_str = nullptr;
  for (const Symbol& s : img.symbols)
    if (s.name.find("g_long") != std::string::npos) long_str = &s;
  ASSERT_NE(long_str, nullptr);
  expect_memory_error(evs, 1, long_str->addr, 4096, "assert file name string no NUL terminator");
  expect_memory_error(evs, 2, slot2 + offsetof(abi::Ucall, buffer), abi::kUcallBufferLen,
                      "ucall buffer has no NUL terminator");
}

TEST_P(HostileGuest, TdcallStormIsRejectedEveryTimeThenDone) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_TDCALL_STORM_ELF));
  const auto evs = run(GetParam(), img);
  const auto rejected = all_of<TdcallRejectedEvent>(evs);
  ASSERT_EQ(rejected.size(), hk::kStormCount) << describe(evs.back());
  EXPECT_EQ(rejected.back().leaf, hk::kStormLeaf);
  EXPECT_EQ(rejected.back().status, abi::kTdxOperandInvalid);
  const auto u = all_of<UcallEvent>(evs);
  ASSERT_EQ(u.size(), 2u) << describe(evs.back());
  EXPECT_EQ(u[0].args[0], hk::kStormDone);
  EXPECT_EQ(u[0].args[1], hk::kStormCount);
  EXPECT_EQ(u[0].args[2], abi::kTdxOperandInvalid);
  EXPECT_EQ(u[1].cmd, abi::kUcallDone);
}

TEST_P(HostileGuest, TdcallStormEndsOnTheInstructionBudget) {
  if (kvm()) GTEST_SKIP() << "the kvm backend enforces no instruction budget (a wall-clock one only)";
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_TDCALL_STORM_ELF));
  const auto evs = run(GetParam(), img, 100'000);
  ASSERT_FALSE(evs.empty());
  const auto* b = std::get_if<BudgetExceededEvent>(&evs.back());
  ASSERT_NE(b, nullptr) << describe(evs.back());
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kInstructions);
  EXPECT_EQ(b->limit, 100'000u);
  EXPECT_GT(all_of<TdcallRejectedEvent>(evs).size(), 1000u);
  EXPECT_LT(all_of<TdcallRejectedEvent>(evs).size(), hk::kStormCount);
}

TEST_P(HostileGuest, SelfModifyingStubRunsItsNewBytes) {
  LayoutSpec spec = spec_for(TDSIM_HOSTILE_HELLO_ELF);
  spec.stub = test::read_asset(TDSIM_HOSTILE_SMC_STUB_BIN);
  spec.stub_name = "smc_stub";
  const TdImage img = build_image(spec);
  const auto evs = run(GetParam(), img);
  ASSERT_EQ(evs.size(), 1u) << dump(evs);
  const auto* h = test::hlt_shutdown(evs[0]);
  ASSERT_NE(h, nullptr) << dump(evs);
  // movw $imm16, abs32 is 9 bytes; the first HLT is at td_boot_patch. Events name the
  // HLT itself (kvm/kvm_backend.cc), on every backend, so `tdsim diff` can compare them.
  EXPECT_EQ(h->rip, img.stub_gpa + 9) << dump(evs);
}

TEST_P(HostileGuest, SelfModifyingGuestCodeRunsItsNewBytes) {
  const auto evs = run(GetParam(), build_image(spec_for(TDSIM_HOSTILE_SELF_MODIFY_ELF)));
  const auto u = all_of<UcallEvent>(evs);
  ASSERT_EQ(u.size(), 2u) << dump(evs);
  EXPECT_EQ(u[0].args[0], hk::kSmcResult);
  EXPECT_EQ(u[0].args[1], 1u);
  EXPECT_EQ(u[0].args[2], 2u);
  EXPECT_EQ(u[1].cmd, abi::kUcallDone);
}

TEST_P(HostileGuest, ClobberedParamsAreHarmlessClobberedPageTablesFault) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_CLOBBER_BOOT_ELF));
  const auto evs = run(GetParam(), img);
  const auto u = all_of<UcallEvent>(evs);
  ASSERT_EQ(u.size(), 2u) << dump(evs);
  EXPECT_EQ(u[0].args[0], hk::kParamsClobbered);
  EXPECT_EQ(u[1].args[0], hk::kTablesNext);
  EXPECT_EQ(u[1].args[1], img.boot.cr3);
  const auto* f = std::get_if<FaultEvent>(&evs.back());
  ASSERT_NE(f, nullptr) << dump(evs);
  // The #PF cannot be delivered (the IDT and its stubs are unmapped now), nor the #DF:
  // a shutdown, on hardware and on both backends.
  EXPECT_TRUE(f->triple_fault) << dump(evs);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileGuest, ::testing::Values(Engine::kUnicorn, Engine::kKvm),
                         [](const auto& info) { return info.param == Engine::kKvm ? "Kvm" : "Unicorn"; });

}  // namespace
}  // namespace tdsim::hostiletest
