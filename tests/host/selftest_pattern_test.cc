// The host API (core/vm.h) driven the way a KVM selftest drives /dev/kvm: vcpu_run until
// a ucall, look at it (get_ucall), change a guest global (sync_global_to_guest), run
// again. The same test on every backend that offers stepping; a backend that cannot run
// here skips with its reason.
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "core/outcome.h"
#include "host/registry.h"
#include "tests/host/backend_params.h"
#include "tdsim/abi/guest_config.h"
#include "tests/guests/report_keys.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

namespace reports = test::reports;

class SelftestPattern : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    info_ = host::find_backend(GetParam());
    ASSERT_NE(info_, nullptr);
    ASSERT_TRUE(info_->caps.stepping);
    if (std::string why = info_->unavailable(); !why.empty()) GTEST_SKIP() << GetParam() << ": " << why;
  }
  std::unique_ptr<Vm> make(const TdImage& image) {
    VmOptions o;
    o.limits.max_insns = 50'000'000;
    o.limits.timeout = std::chrono::seconds(20);
    return info_->make_vm(image, o, {});
  }
  const host::BackendInfo* info_ = nullptr;
};

TdImage pattern_image(uint32_t vcpus) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_SELFTEST_PATTERN_ELF);
  spec.guest_elf_name = "selftest_pattern";
  spec.nr_vcpus = vcpus;
  return build_image(spec);
}

const UcallEvent& expect_sync(const Event& e, uint64_t stage, uint32_t vcpu, uint64_t value) {
  const auto* u = std::get_if<UcallEvent>(&e);
  EXPECT_NE(u, nullptr) << describe(e);
  static const UcallEvent none{};
  if (!u) return none;
  EXPECT_EQ(u->cmd, abi::kUcallSync) << describe(e);
  EXPECT_EQ(u->args[0], stage) << describe(e);
  EXPECT_EQ(u->args[1], vcpu) << describe(e);
  EXPECT_EQ(u->args[2], value) << describe(e);
  return *u;
}

TEST_P(SelftestPattern, HostWritesAGlobalBetweenTwoSyncsAndTheGuestSeesIt) {
  const TdImage image = pattern_image(1);
  auto vm = make(image);
  Vcpu& v = vm->vcpu(0);
  expect_sync(v.run(), reports::kPatternBefore, 0, 0);
  EXPECT_EQ(sync_global_from_guest<uint64_t>(*vm, reports::kPatternSymbol), 0u);
  sync_global_to_guest(*vm, reports::kPatternSymbol, reports::kPatternHostValue);
  expect_sync(v.run(), reports::kPatternAfter, 0, reports::kPatternHostValue);
  const Event done = v.run();
  const auto* u = std::get_if<UcallEvent>(&done);
  ASSERT_NE(u, nullptr) << describe(done);
  EXPECT_EQ(u->cmd, abi::kUcallDone) << describe(done);
  EXPECT_TRUE(v.ended());
  EXPECT_THROW(v.run(), std::logic_error);
  EXPECT_FALSE(v.resume()) << "DONE is not a stop the host may resume from";
}

// Without the host's write the guest's own assertion fails: the pattern test above
// really depends on the write reaching the guest.
TEST_P(SelftestPattern, WithoutTheHostWriteTheGuestAssertionFails) {
  const TdImage image = pattern_image(1);
  auto vm = make(image);
  Vcpu& v = vm->vcpu(0);
  expect_sync(v.run(), reports::kPatternBefore, 0, 0);
  expect_sync(v.run(), reports::kPatternAfter, 0, 0);
  const Event abort = v.run();
  const auto* u = std::get_if<UcallEvent>(&abort);
  ASSERT_NE(u, nullptr) << describe(abort);
  EXPECT_EQ(u->cmd, abi::kUcallAbort) << describe(abort);
  EXPECT_TRUE(v.ended());
}

// vCPUs are stepped in the host's order; each sees the same global.
TEST_P(SelftestPattern, TwoVcpusSteppedInTheHostsOrder) {
  const TdImage image = pattern_image(2);
  auto vm = make(image);
  ASSERT_EQ(vm->nr_vcpus(), 2u);
  expect_sync(vm->vcpu(1).run(), reports::kPatternBefore, 1, 0);
  expect_sync(vm->vcpu(0).run(), reports::kPatternBefore, 0, 0);
  sync_global_to_guest(*vm, reports::kPatternSymbol, reports::kPatternHostValue);
  for (uint32_t i = 0; i < 2; ++i) {
    expect_sync(vm->vcpu(i).run(), reports::kPatternAfter, i, reports::kPatternHostValue);
    const Event done = vm->vcpu(i).run();
    const auto* u = std::get_if<UcallEvent>(&done);
    ASSERT_NE(u, nullptr) << describe(done);
    EXPECT_EQ(u->cmd, abi::kUcallDone) << describe(done);
  }
}

TEST_P(SelftestPattern, UnknownOrMisSizedSymbolsAreRefused) {
  const TdImage image = pattern_image(1);
  auto vm = make(image);
  EXPECT_THROW(sync_global_to_guest(*vm, "no_such_symbol", uint64_t{1}), SymbolError);
  EXPECT_THROW(sync_global_to_guest(*vm, reports::kPatternSymbol, uint32_t{1}), SymbolError);
  EXPECT_FALSE(vm->write(0x7f0000000000ull, "x", 1));
}

TEST_P(SelftestPattern, EveryRunIsBounded) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_LOOP_FOREVER_ELF);
  spec.guest_elf_name = "loop_forever";
  const TdImage image = build_image(spec);
  VmOptions o;
  o.limits.max_insns = 2'000'000;
  o.limits.timeout = std::chrono::milliseconds(300);
  auto vm = info_->make_vm(image, o, {});
  Event e = vm->vcpu(0).run();  // the guest's SYNC before it starts looping
  ASSERT_TRUE(std::holds_alternative<UcallEvent>(e)) << describe(e);
  e = vm->vcpu(0).run();
  ASSERT_TRUE(std::holds_alternative<BudgetExceededEvent>(e)) << describe(e);
  EXPECT_FALSE(vm->vcpu(0).ended()) << "a budget stop is not an end: the host may run again";
  e = vm->vcpu(0).run();
  EXPECT_TRUE(std::holds_alternative<BudgetExceededEvent>(e)) << describe(e);
}

// The host rewrites a guest function between two calls; the guest runs the new bytes.
TEST_P(SelftestPattern, CodeTheHostRewroteRunsAsWritten) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_PATCHED_CODE_ELF);
  spec.guest_elf_name = "patched_code";
  const TdImage image = build_image(spec);
  const Symbol* f = nullptr;
  for (const Symbol& s : image.symbols)
    if (s.name == reports::kPatchSymbol) f = &s;
  ASSERT_NE(f, nullptr);
  auto vm = make(image);
  Vcpu& v = vm->vcpu(0);
  Event e = v.run();
  const auto* u = std::get_if<UcallEvent>(&e);
  ASSERT_TRUE(u && u->args[0] == reports::kPatchBefore) << describe(e);
  EXPECT_EQ(u->args[1], 1u) << describe(e);
  // movabs $2, %rax (48 b8 imm64) at the function's first byte, then ret.
  const uint8_t code[] = {0x48, 0xb8, 2, 0, 0, 0, 0, 0, 0, 0, 0xc3};
  ASSERT_TRUE(vm->write(f->addr, code, sizeof code));
  e = v.run();
  u = std::get_if<UcallEvent>(&e);
  ASSERT_TRUE(u && u->args[0] == reports::kPatchAfter) << describe(e);
  EXPECT_EQ(u->args[1], 2u) << "the old translation ran: " << describe(e);
}

INSTANTIATE_TEST_SUITE_P(Backends, SelftestPattern,
                         ::testing::ValuesIn(test::backends_with([](const host::BackendCaps& c) { return c.stepping; })),
                         test::backend_param_name);

}  // namespace
}  // namespace tdsim
