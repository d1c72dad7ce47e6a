// Architectural behaviour the simulator must share with real virtualization, checked on
// the Unicorn backend and on plain KVM with the same hand-made image: data accesses go
// through the guest's page tables (Unicorn 2.0.1 ignored them), and a TDCALL site the
// guest overwrote is no longer a TDCALL.
#include <gtest/gtest.h>

#include <cstring>

#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim_test_util.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::simtest {
namespace {

enum class Engine { kUnicorn, kKvm };

std::string name_of(Engine e) { return e == Engine::kUnicorn ? "Unicorn" : "Kvm"; }

class EngineAgreement : public ::testing::TestWithParam<Engine> {
 protected:
  std::vector<Event> run(const TdImage& im) {
    if (GetParam() == Engine::kUnicorn) return run_image(im);
    KvmBackend kvm;
    return run_collect(kvm, im, limits());
  }
  void SetUp() override {
    if (GetParam() != Engine::kKvm) return;
    const kvm::HostProbe probe = kvm::probe_host();
    if (!probe.kvm_usable) GTEST_SKIP() << "plain KVM unusable here: " << probe.backend("kvm")->reason;
  }
};

std::string dump(const std::vector<Event>& ev) {
  std::string s;
  for (const Event& e : ev) s += "  " + describe(e) + "\n";
  return s;
}

// PDE 2 maps GVA 0x400000 to GPA 0 instead of 0x400000.
void alias_pde2_to_gpa0(TdImage& im) {
  for (Region& r : im.regions) {
    if (r.kind != RegionKind::kPageTables) continue;
    const uint64_t pde = 0x83;  // GPA 0, 2 MiB, present, RW
    std::memcpy(r.bytes.data() + 0x2000 + 2 * 8, &pde, 8);
    return;
  }
  FAIL() << "no page-table region";
}

TEST_P(EngineAgreement, WriteThroughANonIdentityMappingLandsAtTheTranslatedGpa) {
  TdImage im = make_boot_image(alias_write64());
  alias_pde2_to_gpa0(im);
  const auto ev = run(im);
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  // HLT: the value written through the alias was read back at GPA kData + 0x300.
  // #UD: it was not (the write went elsewhere).
  EXPECT_TRUE(test::hlt_shutdown(ev[0])) << dump(ev);
}

TEST_P(EngineAgreement, TdcallSiteOverwrittenWithNopsIsNoLongerATdcall) {
  TdImage im = make_boot_image(smc_tdcall64());
  set_slot(im, 0, abi::kUcallPrintf, "once");
  const auto ev = run(im);
  ASSERT_EQ(ev.size(), 2u) << dump(ev);
  const auto* u = std::get_if<UcallEvent>(&ev[0]);
  ASSERT_NE(u, nullptr) << dump(ev);
  EXPECT_EQ(u->text, "once");
  EXPECT_TRUE(test::hlt_shutdown(ev[1])) << dump(ev);
}

// Port I/O in a TD is a #VE (vector 20). This hand image has no IDT, so both backends
// shut the vCPU down at the OUT itself, with nothing written or advanced.
TEST_P(EngineAgreement, PortIoIsAVeWhichShutsDownAtTheInstructionWithoutAnIdt) {
  const auto ev = run(make_boot_image(port_out64()));
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  const auto* f = std::get_if<FaultEvent>(&ev[0]);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->rip, kCode + 3) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
}

// CPUID of a #VE leaf without an IDT: on Unicorn the TDX module's #VE shuts the vCPU down
// at the CPUID, the fault naming the instruction and why it was a #VE; plain KVM answers
// CPUID in the kernel, so the HLT after it is reached (docs/engine-quirks.md).
TEST_P(EngineAgreement, CpuidOfAVeLeafIsAVeOnUnicornAndAnsweredByPlainKvm) {
  const auto ev = run(make_boot_image(cpuid_ve64()));
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  if (GetParam() == Engine::kKvm) {
    EXPECT_TRUE(test::hlt_shutdown(ev[0])) << dump(ev);
    return;
  }
  const auto* f = std::get_if<FaultEvent>(&ev[0]);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->rip, kCode + 8) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_NE(f->detail.find("#VE for CPUID leaf 0x40000000"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("hypervisor range"), std::string::npos) << f->detail;
}

// A ucall slot in private memory is refused on every backend: the host of a real TD
// could not read it (issue: the decoder used to follow the pointer anywhere backed).
TEST_P(EngineAgreement, UcallSlotInPrivateMemoryIsAGuestMemoryError) {
  const auto ev = run(make_boot_image(private_slot64()));
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  const auto* m = std::get_if<GuestMemoryErrorEvent>(&ev[0]);
  ASSERT_NE(m, nullptr) << dump(ev);
  EXPECT_EQ(m->gpa, kData);
  EXPECT_NE(m->what.find("private"), std::string::npos) << m->what;
}

// The TDX module's own write into guest memory (TDG.MR.REPORT's output, over a function
// the guest calls again) is seen by the guest's next instruction: no stale translation.
TEST_P(EngineAgreement, CodeTheTdxModuleOverwroteRunsAsWritten) {
  const auto ev = run(make_boot_image(report_over_code64()));
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  EXPECT_TRUE(test::hlt_shutdown(ev[0])) << "the old code ran (or MR.REPORT failed): " << dump(ev);
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineAgreement, ::testing::Values(Engine::kUnicorn, Engine::kKvm),
                         [](const auto& info) { return name_of(info.param); });

}  // namespace
}  // namespace tdsim::simtest
