// The TD CPUID model reaches the guest's CPUID instruction: on every backend the guest
// reads exactly what the TDX module stand-in computes, except for the registers the
// backend's CPUID fidelity names (BackendInfo::cpuid_fidelity: this host's nested KVM
// answers leaves 1, 7 and 0xd itself, docs/engine-quirks.md), where it reads what the
// probe saw; backends whose fidelity is exact give identical events. Where a backend
// cannot take the model at all, the guest's first TD assertion fails, which pins the
// difference instead of skipping it.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/cpuid_fidelity.h"
#include "core/event_diff.h"
#include "host/registry.h"
#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"
#include "tdx/td_cpuid.h"
#include "tests/guests/test_assets.h"
#include "tests/host/backend_params.h"

namespace tdsim {
namespace {

TEST(TdCpuidGuest, EveryBackendShowsTheTdCpuOrSaysWhatItShowsInstead) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_TD_CPUID_ELF);
  const TdImage image = build_image(spec);
  const tdx::CpuidModel model =
      tdx::td_cpuid_values(tdx::sapphire_rapids_native(), tdx::TdCpuidConfig{0, tdx::kXfamX87Sse, image.gpaw, {}});
  // What the module answers the guest's 64-bit code (CR4.OSXSAVE 0: OSXSAVE clear; SYSCALL set).
  const auto td = [&model](uint32_t leaf) {
    return *tdx::execute_td_cpuid(model, leaf, 0, tdx::CpuidVcpuState{0, 0, 1, true}).value;
  };
  std::vector<std::pair<std::string, std::vector<Event>>> exact;
  int ran = 0, inexact = 0;
  for (const host::BackendInfo& b : host::backends()) {
    if (b.unavailable && !b.unavailable().empty()) continue;
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    const std::vector<Event> events = run_collect(*b.make_backend({}), image, limits);
    ++ran;
    const CpuidFidelity fidelity = b.cpuid_fidelity ? b.cpuid_fidelity() : CpuidFidelity{};
    SCOPED_TRACE(b.name + " (CPUID fidelity: " + (fidelity.exact() ? "exact" : fidelity.describe()) + ")\n" +
                 test::dump_events(events));
    ASSERT_GE(events.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&events[0]);
    ASSERT_NE(sync, nullptr);
    ASSERT_EQ(sync->cmd, abi::kUcallSync);
    if (!fidelity.refused.empty()) {
      // Not the TD's CPU: the guest's first assertion (max basic leaf >= 0x21) fails.
      const auto* last = std::get_if<UcallEvent>(&events[1]);
      ASSERT_NE(last, nullptr);
      EXPECT_LT(sync->args[1], 0x21u);
      EXPECT_EQ(last->cmd, abi::kUcallAbort);
      continue;
    }
    const auto seen = [&fidelity](uint32_t leaf, char reg, uint32_t model_value) {
      return fidelity.guest_value(leaf, 0, reg, model_value);
    };
    EXPECT_EQ(sync->args[1], seen(0, 'a', td(0).eax));
    EXPECT_EQ(sync->args[2], seen(1, 'c', td(1).ecx));
    EXPECT_EQ(sync->args[3], seen(0x80000001, 'd', td(0x80000001).edx));
    EXPECT_EQ(sync->args[4], seen(0x80000008, 'a', td(0x80000008).eax));
    // Stage 2: the guest's TD assertions held.
    ASSERT_GE(events.size(), 3u);
    const auto* stage2 = std::get_if<UcallEvent>(&events[1]);
    ASSERT_NE(stage2, nullptr);
    ASSERT_EQ(stage2->cmd, abi::kUcallSync);
    EXPECT_EQ(stage2->args[0], 2u);
    EXPECT_EQ(stage2->args[1], seen(7, 'b', td(7).ebx));
    ASSERT_EQ(events.size(), 3u);
    // The instructions the CPUID promised. A CPU that cannot run one of them ends the
    // vCPU on it: this host's nested KVM fails to emulate CRC32 and its kind
    // (docs/engine-quirks.md, "This host's KVM"), a limit of the host named here, not of
    // the CPUID the guest was shown, which the two stages above compared.
    if (const auto* f = std::get_if<FaultEvent>(&events[2]); f && f->detail.find("emulation failure") != std::string::npos) {
      std::printf("[ NOTE ] %s showed the TD CPUID but cannot run what it promises: %s\n", b.name.c_str(),
                  f->detail.c_str());
    } else {
      const auto* last = std::get_if<UcallEvent>(&events[2]);
      ASSERT_NE(last, nullptr);
      EXPECT_EQ(last->cmd, abi::kUcallDone);
    }
    if (fidelity.exact())
      exact.emplace_back(b.name, events);
    else
      ++inexact;
  }
  ASSERT_GT(ran, 0);
  ASSERT_FALSE(exact.empty()) << "unicorn always shows the TD CPUID";
  for (size_t i = 1; i < exact.size(); ++i) {
    const auto d = first_divergence(exact[0].second, exact[i].second, image.nr_vcpus);
    EXPECT_FALSE(d.has_value()) << exact[0].first << " vs " << exact[i].first;
  }
  if (inexact > 0 && exact.size() == 1)
    std::printf("[ NOTE ] only %s showed the TD CPUID exactly; the others were checked against what they show\n",
                exact[0].first.c_str());
}

// CPUID of a #VE leaf: where the backend raises the #VE (caps.cpuid_ve) the runtime's
// handler gets the VMM's answer and the guest without a handler ends with
// UCALL_UNHANDLED(20); plain KVM answers CPUID in the kernel, so no #VE is taken there
// (KVM's own value, and the guest's final GUEST_FAIL), as docs/engine-quirks.md says.
TEST(TdCpuidGuest, CpuidOfAVeLeafGoesThroughTheVeHandler) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_VE_CPUID_ELF);
  const TdImage image = build_image(spec);
  host::BackendSetup setup;
  tdx::CpuidModel vmm = tdx::CpuidModel::default_for(image.gpaw);
  const tdx::CpuidValue kvm_leaf{0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d};  // "KVMKVMKVM"
  vmm.set(0x40000000, tdx::CpuidModel::kAnySubleaf, kvm_leaf);
  setup.config.cpuid = vmm;
  int ran = 0, with_ve = 0;
  for (const host::BackendInfo& b : host::backends()) {
    if (b.unavailable && !b.unavailable().empty()) continue;
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    const std::vector<Event> events = run_collect(*b.make_backend(setup), image, limits);
    ++ran;
    SCOPED_TRACE(b.name + "\n" + test::dump_events(events));
    ASSERT_EQ(events.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&events[0]);
    const auto* last = std::get_if<UcallEvent>(&events[1]);
    ASSERT_TRUE(sync && last);
    ASSERT_EQ(sync->cmd, abi::kUcallSync);
    if (b.caps.cpuid_ve) {
      ++with_ve;
      EXPECT_EQ(sync->args[1], 1u) << "one #VE";
      EXPECT_EQ(sync->args[2], kvm_leaf.eax);
      EXPECT_EQ(sync->args[3], kvm_leaf.ebx);
      EXPECT_EQ(sync->args[4], kvm_leaf.ecx);
      EXPECT_EQ(sync->args[5], kvm_leaf.edx);
      EXPECT_EQ(last->cmd, abi::kUcallUnhandled);
      EXPECT_EQ(last->args[abi::kUnhandledArgVector], abi::kVeVector);
    } else {
      EXPECT_EQ(sync->args[1], 0u) << "no #VE: the kernel answered CPUID";
      EXPECT_EQ(last->cmd, abi::kUcallAbort);
    }
  }
  ASSERT_GT(ran, 0);
  EXPECT_GT(with_ve, 0) << "unicorn raises the #VE";
}

// RDMSR/WRMSR of #VE MSRs (POWER_CTL, x2APIC ICR) through the runtime's #VE handler
// where the backend raises the #VE (caps.msr_ve): KVM's answers (TDG.VP.VMCALL) come
// back, PAT runs natively, and every such backend gives the same events. Plain KVM
// hands these accesses to user space (an MSR filter; the ICR, which no filter covers,
// because this VM has no in-kernel APIC), where the module raises the #VE.
TEST(VeMsrGuest, MsrsOfTheModulesVeClassGoThroughTheVeHandler) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_VE_MSR_ELF);
  const TdImage image = build_image(spec);
  std::vector<std::pair<std::string, std::vector<Event>>> runs;
  std::string skipped;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    if (!b->caps.msr_ve) {
      skipped += b->name + ": its MSR accesses do not reach the TDX module (caps.msr_ve); ";
      continue;
    }
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    const std::vector<Event> events = run_collect(*b->make_backend({}), image, limits);
    SCOPED_TRACE(b->name + "\n" + test::dump_events(events));
    ASSERT_EQ(events.size(), 2u);
    const auto* first = std::get_if<UcallEvent>(&events[0]);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(first->cmd, abi::kUcallSync);
    EXPECT_EQ(first->args[1], 4u) << "two #VEs each for POWER_CTL and the ICR, none for PAT";
    EXPECT_EQ(first->args[2], 2u) << "POWER_CTL as written";
    EXPECT_EQ(first->args[3], (1ull << 32) | 0xf0) << "ICR as written";
    EXPECT_EQ(first->args[4], 0x0007040600070406ull) << "PAT's reset value, read natively";
    runs.emplace_back(b->name, events);
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  for (size_t i = 1; i < runs.size(); ++i)
    EXPECT_FALSE(first_divergence(runs[0].second, runs[i].second, image.nr_vcpus).has_value())
        << runs[0].first << " vs " << runs[i].first;
  if (runs.size() == 1) GTEST_SKIP() << "only " << runs[0].first << " could run: " << skipped;
}

}  // namespace
}  // namespace tdsim
