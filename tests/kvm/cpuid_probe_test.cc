// The plain-KVM CPUID probe against this host's KVM: what it reports must be what a guest
// reads, whichever way the comparison goes, and a table KVM cannot take is a refusal
// that says why, not a verdict.
#include <gtest/gtest.h>

#include "kvm/cpuid_probe.h"
#include "kvm/plain_machine.h"
#include "kvm_skip.h"
#include "tdx/td_cpuid.h"

namespace tdsim {
namespace {

using kvm::tdx::CpuidEntry2;

CpuidEntry2 entry(uint32_t function, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx) {
  return CpuidEntry2{function, 0, 0, eax, ebx, ecx, edx, {0, 0, 0}};
}

// A hypervisor leaf no CPU answers itself: every KVM returns it from the table.
const CpuidEntry2 kSignature = entry(0x40000000, 0x40000001, 0x4d495344, 0x4f525054, 0x45424f52);

TEST(CpuidProbe, ALeafKvmAnswersFromItsTableIsExact) {
  TDSIM_REQUIRE_PLAIN_KVM();
  const CpuidFidelity f = kvm::probe_plain_cpuid({entry(0, 0x40000000u, 1, 2, 3), kSignature});
  EXPECT_TRUE(f.refused.empty()) << f.refused;
  EXPECT_TRUE(f.shows_leaf(0x40000000)) << f.describe();
}

// The comparison itself: told to expect other values than the table's, the probe names
// exactly the registers that differ, with the guest's value being the table's.
TEST(CpuidProbe, RegistersThatDifferFromTheExpectationAreNamedWithWhatTheGuestRead) {
  TDSIM_REQUIRE_PLAIN_KVM();
  const kvm::CpuidExpectation expect = [](const CpuidEntry2& e) {
    CpuidEntry2 x = e;
    if (x.function == 0x40000000) {
      x.ebx ^= 0x100;
      x.edx ^= 0x80000000u;
    }
    return x;
  };
  const CpuidFidelity f = kvm::probe_plain_cpuid({kSignature}, expect);
  ASSERT_TRUE(f.refused.empty()) << f.refused;
  ASSERT_EQ(f.differences.size(), 2u) << f.describe();
  EXPECT_EQ(f.differences[0].reg, 'b');
  EXPECT_EQ(f.differences[0].model, kSignature.ebx ^ 0x100);
  EXPECT_EQ(f.differences[0].guest, kSignature.ebx);
  EXPECT_EQ(f.differences[1].reg, 'd');
  EXPECT_EQ(f.differences[1].guest, kSignature.edx);
  EXPECT_EQ(f.guest_value(0x40000000, 0, 'd', 0), kSignature.edx);
  EXPECT_EQ(f.guest_value(0x40000000, 0, 'a', 7), 7u) << "an undiffering register keeps the model's value";
  EXPECT_NE(f.describe().find("CPUID 0x40000000.0 EBX: model 0x4d495244, guest 0x4d495344 (bits 8)"),
            std::string::npos)
      << f.describe();
}

TEST(CpuidProbe, ATableKvmRefusesIsARefusalNamingTheIoctl) {
  TDSIM_REQUIRE_PLAIN_KVM();
  // More entries than KVM takes (KVM_MAX_CPUID_ENTRIES is 256): E2BIG.
  std::vector<CpuidEntry2> big;
  for (uint32_t i = 0; i < 300; ++i) big.push_back(CpuidEntry2{0xd, i, 1, 0, 0, 0, 0, {0, 0, 0}});
  const CpuidFidelity f = kvm::probe_plain_cpuid(big);
  EXPECT_FALSE(f.exact());
  EXPECT_NE(f.refused.find("KVM_SET_CPUID2"), std::string::npos) << f.refused;
  EXPECT_FALSE(f.shows_leaf(0));
}

// What the registry reports for the plain backend is this probe of the TD CPUID model,
// and the table it probes is the one the backend gives its vCPUs.
TEST(CpuidProbe, TheTdTableCarriesTheApicIdAndSyscall) {
  const auto model = tdx::td_cpuid_values(tdx::sapphire_rapids_native(), {});
  const std::vector<CpuidEntry2> t = kvm::plain_td_cpuid_table(model, 3);
  bool leaf1 = false, ext1 = false;
  for (const CpuidEntry2& e : t) {
    if (e.function == 1) {
      leaf1 = true;
      EXPECT_EQ(e.ebx >> 24, 3u);
    }
    if (e.function == 0x80000001) {
      ext1 = true;
      EXPECT_TRUE(e.edx & (1u << 11));
    }
  }
  EXPECT_TRUE(leaf1 && ext1);
}

}  // namespace
}  // namespace tdsim
