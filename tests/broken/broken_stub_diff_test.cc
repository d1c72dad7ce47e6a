// The broken-stub set on Unicorn and plain KVM: each stub fails, and fails the same way
// on both (vector, RIP, error code, triple fault or the guest's own report), both when
// compared with core/event_diff (what `tdsim diff` runs; broken_stub_cli_diff_test.cc
// runs the command). Agreement alone would prove little (two backends can agree on a
// wrong answer), so each case also names the failure it must be.
#include <gtest/gtest.h>

#include "broken_image.h"
#include "core/event_diff.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/guest_config.h"
#include "tests/guests/test_assets.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::broken {
namespace {

struct Expect {
  bool triple_fault = false;  // else: the guest runtime reports UCALL_UNHANDLED
  const char* label;          // stub label of the faulting instruction (triple faults)
  uint64_t vector = 0;        // UNHANDLED: vector and faulting address (CR2)
  uint64_t cr2 = 0;
};

struct Case {
  const char* name;
  const char* stub_bin;
  const char* symbols;
  Expect expect;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class BrokenStubDiff : public ::testing::TestWithParam<Case> {};

TEST_P(BrokenStubDiff, FailsTheSameWayOnUnicornAndKvm) {
  if (const std::string why = kvm_unusable_reason(); !why.empty()) GTEST_SKIP() << "plain KVM unusable: " << why;
  const Case& c = GetParam();
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, c.stub_bin);
  const std::vector<Event> a = run_unicorn(im), b = run_kvm(im);

  const auto d = first_divergence(a, b, im.nr_vcpus);
  EXPECT_FALSE(d.has_value()) << (d ? d->left + "\n" + d->right : "") << "\nunicorn:\n"
                              << dump(a) << "kvm:\n" << dump(b);

  for (const auto* events : {&a, &b}) {
    const std::string which = events == &a ? "unicorn" : "kvm";
    ASSERT_EQ(events->size(), 1u) << which << "\n" << dump(*events);
    if (c.expect.triple_fault) {
      const FaultEvent* f = only_fault(*events);
      ASSERT_NE(f, nullptr) << which << "\n" << dump(*events);
      EXPECT_TRUE(f->triple_fault) << which << "\n" << dump(*events);
      EXPECT_EQ(f->rip, stub_label(im, c.symbols, c.expect.label)) << which << "\n" << dump(*events);
    } else {
      const auto* u = std::get_if<UcallEvent>(&events->front());
      ASSERT_NE(u, nullptr) << which << "\n" << dump(*events);
      EXPECT_EQ(u->cmd, abi::kUcallUnhandled) << which;
      EXPECT_EQ(u->args[abi::kUnhandledArgVector], c.expect.vector) << which;
      EXPECT_EQ(u->args[2], c.expect.cr2) << which;
    }
  }
}

// A gate naming another, 16-bit code segment in the 32-bit phase: Unicorn's API cannot
// load CS, so the delivery ends with tdsim's far jump (sim/far_transfer.h). The 16-bit
// handler halts at td_boot_handler_ok when CS is 0x18 and the pushed EIP is the UD2's.
TEST(BrokenStubDiffGate, ExceptionThroughAGateNamingA16BitCodeSegmentAgrees) {
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, TDSIM_BROKEN_GATE_CS16_BIN);
  const uint64_t ok = stub_label(im, TDSIM_BROKEN_GATE_CS16_SYMBOLS, "td_boot_handler_ok");
  std::vector<std::pair<std::string, std::vector<Event>>> runs{{"unicorn", run_unicorn(im)}};
  if (const std::string why = kvm_unusable_reason(); why.empty()) runs.emplace_back("kvm", run_kvm(im));
  for (const auto& [which, ev] : runs) {
    ASSERT_EQ(ev.size(), 1u) << which << "\n" << dump(ev);
    const auto* h = test::hlt_shutdown(ev[0]);
    ASSERT_NE(h, nullptr) << which << "\n" << dump(ev);
    EXPECT_EQ(h->rip, ok) << which << ": halted at td_boot_handler_bad, CS or the frame was wrong\n" << dump(ev);
  }
  if (runs.size() == 1) GTEST_SKIP() << "Unicorn checked; plain KVM unusable: " << kvm_unusable_reason();
  const auto d = first_divergence(runs[0].second, runs[1].second, im.nr_vcpus);
  EXPECT_FALSE(d.has_value()) << dump(runs[0].second) << dump(runs[1].second);
}

INSTANTIATE_TEST_SUITE_P(
    Set, BrokenStubDiff,
    ::testing::Values(
        Case{"no_pae", TDSIM_STUB_NO_PAE_BIN, TDSIM_STUB_NO_PAE_SYMBOLS, {true, "td_boot_enable_paging"}},
        Case{"vmxe", TDSIM_BROKEN_VMXE_BIN, TDSIM_BROKEN_VMXE_SYMBOLS, {true, "td_boot_set_cr4"}},
        Case{"no_lgdt", TDSIM_BROKEN_NO_LGDT_BIN, TDSIM_BROKEN_NO_LGDT_SYMBOLS, {true, "td_boot_far_jump"}},
        Case{"unmapped_entry", TDSIM_BROKEN_UNMAPPED_ENTRY_BIN, TDSIM_BROKEN_UNMAPPED_ENTRY_SYMBOLS,
             {false, nullptr, 14, 0x40000000}},
        Case{"unlinked_far_jump", TDSIM_BROKEN_BAD_LJMP_BIN, TDSIM_BROKEN_BAD_LJMP_SYMBOLS,
             {false, nullptr, 14, 0x80000000}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace tdsim::broken
