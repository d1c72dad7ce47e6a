// The kvm-tdx backend on a host without TDX says exactly what is missing; the INIT_VM
// CPUID list keeps only configurable leaves and carries the GPA width.
#include <gtest/gtest.h>

#include "kvm/probe.h"
#include "kvm/tdx_backend.h"
#include "kvm/tdx_cpuid.h"
#include "kvm/tdx_launch.h"
#include "kvm/tdx_plan.h"
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

// The vCPU's KVM_SET_CPUID2 table on a TD: the TD's leaves as KVM_TDX_GET_CPUID gave them,
// and the VMM's leaves the TD's table lacks (KVM answers VMCALL<CPUID> from it).
TEST(TdxVcpuCpuid, TheVmmsLeavesJoinTheTdsWithoutReplacingThem) {
  tdsim::tdx::CpuidModel vmm;
  vmm.set(0x1, tdsim::tdx::CpuidModel::kAnySubleaf, {9, 9, 9, 9});
  vmm.set(0x40000000, tdsim::tdx::CpuidModel::kAnySubleaf, {0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d});
  const auto out = kvm::td_vcpu_cpuid({entry(0x1, 0, 1, 2, 3, 4)}, vmm);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].eax, 1u) << "the TD's leaf 1 stays";
  EXPECT_EQ(out[1].function, 0x40000000u);
  EXPECT_EQ(out[1].ebx, 0x4b4d564bu);
}

// KVM_TDX_INIT_VM's struct up to the ioctl: the configuration's attributes and
// measurement registers at their offsets, XFAM through CPUID 0xd, the list limited to the
// TD CPUID model (a VMM never asks for what the TD's CPU must not show).
TEST(TdxInitVmCpuid, InitVmBytesCarryTheTdConfiguration) {
  TdImage img = kvmtest::make_test_image(TDSIM_STUB(long64));
  tdx::TdxConfig cfg;
  cfg.attributes = (1ull << 28) | 1;
  cfg.xfam = 0x7;
  for (int i = 0; i < 48; ++i) cfg.mrconfigid[i] = static_cast<uint8_t>(i), cfg.mrowner[i] = 0xa0, cfg.mrownerconfig[i] = 0x5c;
  const kvm::TdxPlan plan = kvm::plan_tdx_launch(img, cfg);
  const kvm::InitVmPayload* p = nullptr;
  for (const auto& st : plan.steps)
    if (st.ioctl == kvm::TdxIoctl::kTdxInitVm) p = &std::get<kvm::InitVmPayload>(st.payload);
  ASSERT_NE(p, nullptr);
  const std::vector<kvm::tdx::CpuidEntry2> all = {
      entry(0x1, 0, ~0u, ~0u, ~0u, ~0u), entry(0xd, 0, ~0u, ~0u, ~0u, ~0u), entry(0xd, 1, ~0u, ~0u, ~0u, ~0u),
      entry(0x7, 0, ~0u, ~0u, ~0u, ~0u), entry(0x80000008, 0, ~0u, ~0u, ~0u, ~0u)};
  const std::vector<uint8_t> b = kvm::init_vm_bytes(*p, all, all);
  ASSERT_EQ(b.size(), 264u + 5 * 40);
  auto u64 = [&](size_t off) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | b[off + i];
    return v;
  };
  auto u32 = [&](size_t off) { return static_cast<uint32_t>(u64(off)); };
  EXPECT_EQ(u64(0), cfg.attributes);
  EXPECT_EQ(u64(8), 0u) << "XFAM goes through CPUID 0xd";
  for (int i = 0; i < 48; ++i) {
    EXPECT_EQ(b[16 + i], i);
    EXPECT_EQ(b[64 + i], 0xa0);
    EXPECT_EQ(b[112 + i], 0x5c);
  }
  for (size_t off = 160; off < 256; ++off) EXPECT_EQ(b[off], 0) << "reserved byte " << off;
  EXPECT_EQ(u32(256), 5u) << "nent";
  EXPECT_EQ(u32(260), 0u) << "padding";
  for (size_t e = 264; e < b.size(); e += 40) {
    const uint32_t fn = u32(e), idx = u32(e + 4);
    const uint32_t eax = u32(e + 12), ecx = u32(e + 20);
    if (fn == 0xd && idx == 0) {
      EXPECT_EQ(eax, 0x7u) << "XCR0 bits = XFAM";
    }
    if (fn == 1) {
      EXPECT_TRUE((ecx >> 28) & 1) << "AVX with XFAM AVX";
      EXPECT_FALSE((ecx >> 5) & 1) << "VMX never";
    }
    if (fn == 0x80000008) {
      EXPECT_EQ((eax >> 16) & 0xff, img.gpaw);
    }
  }
}

}  // namespace
}  // namespace tdsim
