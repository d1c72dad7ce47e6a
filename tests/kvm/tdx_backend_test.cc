// The kvm-tdx backend on a host without TDX says exactly what is missing; the INIT_VM
// CPUID list keeps only configurable leaves and carries the GPA width.
#include <gtest/gtest.h>

#include "kvm/probe.h"
#include "kvm/tdx_backend.h"
#include "kvm/tdx_cpuid.h"
#include "stubs.h"
#include "test_image.h"

namespace tdsim {
namespace {

TEST(TdxBackend, NameIsKvmTdx) { EXPECT_EQ(TdxBackend().name(), "kvm-tdx"); }

TEST(TdxBackend, WithoutTdxTheErrorNamesWhatIsMissing) {
  kvm::HostProbe p = kvm::probe_host();
  if (p.backend("kvm-tdx")->can_run) GTEST_SKIP() << "this host runs TDs";
  TdxBackend be;
  TdImage img = kvmtest::make_test_image(TDSIM_STUB(long64));
  try {
    be.run(img, RunLimits{}, [](const Event&) { ADD_FAILURE() << "no event expected"; });
    FAIL() << "kvm-tdx ran on a host without TDX";
  } catch (const BackendError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("kvm-tdx cannot run on this host"), std::string::npos) << msg;
    EXPECT_NE(msg.find(p.backend("kvm-tdx")->reason), std::string::npos) << msg;
    if (p.dev_kvm_openable && p.vm_types_cap) {
      EXPECT_NE(msg.find("KVM_CAP_VM_TYPES mask 0x"), std::string::npos) << msg;
    }
  }
}

kvm::tdx::CpuidEntry2 entry(uint32_t fn, uint32_t idx, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return kvm::tdx::CpuidEntry2{fn, idx, 0, a, b, c, d, {0, 0, 0}};
}

TEST(TdxInitVmCpuid, KeepsConfigurableLeavesMaskedAndSetsGpaw) {
  std::vector<kvm::tdx::CpuidEntry2> supported = {
      entry(0x1, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff),
      entry(0x7, 0, 0xf0f0f0f0, 1, 2, 3),
      entry(0x80000008, 0, 0x00003030, 0, 0, 0),
  };
  std::vector<kvm::tdx::CpuidEntry2> configurable = {
      entry(0x7, 0, 0xff00ff00, 0, 0xffffffff, 0),
      entry(0x80000008, 0, 0x00ffffff, 0, 0, 0),
      entry(0x1f, 0, 1, 1, 1, 1),  // configurable but not supported: not added
  };
  auto out = kvm::build_init_vm_cpuid(supported, configurable, 52);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].function, 0x7u);
  EXPECT_EQ(out[0].eax, 0xf000f000u);
  EXPECT_EQ(out[0].ebx, 0u);
  EXPECT_EQ(out[0].ecx, 2u);
  EXPECT_EQ(out[1].function, 0x80000008u);
  EXPECT_EQ((out[1].eax >> 16) & 0xff, 52u);
  EXPECT_EQ(out[1].eax & 0xffff, 0x3030u);
}

TEST(TdxInitVmCpuid, AddsTheAddressSizeLeafWhenMissing) {
  auto out = kvm::build_init_vm_cpuid({}, {}, 48);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].function, 0x80000008u);
  EXPECT_EQ(out[0].eax, 48u << 16);
}

}  // namespace
}  // namespace tdsim
