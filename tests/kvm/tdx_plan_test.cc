// The KVM TDX launch plan obeys the ordering rules of docs/tdx-abi.md, "Launch ordering
// rules", and adds exactly the private pages, in core launch order, with the right
// MEASURE flags. Pure: no KVM.
#include <gtest/gtest.h>
#include <linux/ioctl.h>

#include <map>
#include <set>

#include "bootstub/measure/mrtd.h"
#include "core/guest_memory.h"
#include "core/launch_order.h"
#include "kvm/tdx_plan.h"
#include "kvm/tdx_uapi.h"
#include "tdx/td_build.h"
#include "tdx/tdx_module.h"
#include "stubs.h"
#include "test_image.h"

namespace tdsim::kvm {
namespace {

TdImage sample_image(uint32_t vcpus = 3) {
  TdImage img = kvmtest::make_test_image(TDSIM_STUB(long64), vcpus);
  // An unmeasured private region between the pool and the stub, and a measured one
  // right after it, so merging across regions and flags is exercised.
  const Region ram = make_region("filler", RegionKind::kRam, 0x400000, 0x3000, {}, false);
  const Region elf = make_region("elf", RegionKind::kGuestElf, 0x403000, 0x2000, {}, true);
  img.regions.insert(img.regions.begin() + 3, {ram, elf});
  return img;
}

std::vector<size_t> indices(const TdxPlan& p, TdxIoctl k) {
  std::vector<size_t> out;
  for (size_t i = 0; i < p.steps.size(); ++i)
    if (p.steps[i].ioctl == k) out.push_back(i);
  return out;
}

TEST(TdxPlan, StartsWithTheVmTypeCheckAndCreateVm) {
  TdxPlan p = plan_tdx_launch(sample_image());
  ASSERT_GE(p.steps.size(), 2u);
  EXPECT_EQ(p.steps[0].ioctl, TdxIoctl::kCheckVmTypes);
  EXPECT_EQ(p.steps[1].ioctl, TdxIoctl::kCreateVm);
  EXPECT_EQ(std::get<VmTypePayload>(p.steps[1].payload).type, tdx::kX86TdxVm);
  EXPECT_LT(indices(p, TdxIoctl::kTdxCapabilities)[0], indices(p, TdxIoctl::kTdxInitVm)[0]);
  EXPECT_LT(indices(p, TdxIoctl::kEnableSplitIrqchip)[0], indices(p, TdxIoctl::kCreateVcpu)[0]);
}

TEST(TdxPlan, InitVmComesBeforeAnyVcpuAndCarriesGpaw) {
  TdImage img = sample_image();
  img.gpaw = 52;
  TdxPlan p = plan_tdx_launch(img);
  auto init = indices(p, TdxIoctl::kTdxInitVm);
  ASSERT_EQ(init.size(), 1u);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (p.steps[i].scope.kind == TdxScope::kVcpu || p.steps[i].ioctl == TdxIoctl::kCreateVcpu) {
      EXPECT_GT(i, init[0]) << p.to_text();
    }
  }
  EXPECT_EQ(std::get<InitVmPayload>(p.steps[init[0]].payload).gpaw, 52u);
}

TEST(TdxPlan, VcpusAreSetUpInIndexOrderWithCpuidBeforeInitVcpu) {
  TdxPlan p = plan_tdx_launch(sample_image(3));
  auto create = indices(p, TdxIoctl::kCreateVcpu);
  auto getc = indices(p, TdxIoctl::kTdxGetCpuid);
  auto setc = indices(p, TdxIoctl::kSetCpuid2);
  auto init = indices(p, TdxIoctl::kTdxInitVcpu);
  ASSERT_EQ(create.size(), 3u);
  ASSERT_EQ(init.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::get<VcpuIdPayload>(p.steps[create[i]].payload).id, i);
    EXPECT_EQ(p.steps[init[i]].scope.vcpu, i);
    EXPECT_LT(create[i], getc[i]);
    EXPECT_LT(getc[i], setc[i]);
    EXPECT_LT(setc[i], init[i]);  // x2APIC in CPUID before TDH.VP.INIT
    if (i > 0) {
      EXPECT_LT(init[i - 1], create[i]);  // VCPU_INDEX = INIT_VCPU order
    }
    EXPECT_EQ(std::get<InitVcpuPayload>(p.steps[init[i]].payload).init_rcx, 0x1234abcd5678ull);
  }
}

TEST(TdxPlan, PrivateAttributesPrecedeInitMemRegionAndAnInitVcpuToo) {
  TdxPlan p = plan_tdx_launch(sample_image());
  auto attrs = indices(p, TdxIoctl::kSetMemoryAttributes);
  auto adds = indices(p, TdxIoctl::kTdxInitMemRegion);
  auto init_vcpu = indices(p, TdxIoctl::kTdxInitVcpu);
  ASSERT_FALSE(adds.empty());
  for (size_t a : adds) {
    const auto& m = std::get<InitMemRegionPayload>(p.steps[a].payload);
    EXPECT_GT(a, init_vcpu.front());
    EXPECT_EQ(p.steps[a].scope.kind, TdxScope::kVcpu);
    bool covered = false;
    for (size_t s : attrs) {
      const auto& at = std::get<MemAttributesPayload>(p.steps[s].payload);
      if (s < a && at.attributes == tdx::kMemoryAttributePrivate && m.gpa >= at.address &&
          m.gpa + m.nr_pages * 4096 <= at.address + at.size)
        covered = true;
    }
    EXPECT_TRUE(covered) << "INIT_MEM_REGION at " << std::hex << m.gpa << " before PRIVATE";
  }
}

TEST(TdxPlan, FinalizeFollowsAllPageAddsAndRunsComeLast) {
  TdxPlan p = plan_tdx_launch(sample_image(2));
  auto fin = indices(p, TdxIoctl::kTdxFinalizeVm);
  ASSERT_EQ(fin.size(), 1u);
  for (size_t a : indices(p, TdxIoctl::kTdxInitMemRegion)) EXPECT_LT(a, fin[0]);
  auto runs = indices(p, TdxIoctl::kRun);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0], fin[0] + 1);
  EXPECT_EQ(runs[1], p.steps.size() - 1);
  // No TDX vCPU sub-ioctl after FINALIZE.
  for (size_t i = fin[0] + 1; i < p.steps.size(); ++i) EXPECT_EQ(p.steps[i].ioctl, TdxIoctl::kRun);
}

TEST(TdxPlan, EachPrivatePageIsAddedOnceInLaunchOrderSharedNever) {
  TdImage img = sample_image();
  TdxPlan p = plan_tdx_launch(img);
  std::vector<std::pair<uint64_t, bool>> added;
  for (size_t a : indices(p, TdxIoctl::kTdxInitMemRegion)) {
    const auto& m = std::get<InitMemRegionPayload>(p.steps[a].payload);
    const Region& r = img.regions[m.region];
    EXPECT_FALSE(r.shared);
    EXPECT_TRUE(r.contains(m.gpa));
    EXPECT_LE(m.gpa + m.nr_pages * 4096, r.end());
    EXPECT_EQ(m.measure, r.measured) << r.name;  // MEASURE iff Region::measured
    for (uint64_t k = 0; k < m.nr_pages; ++k) added.push_back({m.gpa + k * 4096, m.measure});
  }
  std::vector<PageAdd> want = launch_page_order(img);
  ASSERT_EQ(added.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(added[i].first, want[i].gpa) << i;
    EXPECT_EQ(added[i].second, want[i].measured) << i;
  }
  for (const Region& r : img.regions) {
    if (!r.shared) continue;
    for (auto& [gpa, m] : added) {
      EXPECT_FALSE(r.contains(gpa)) << r.name;
    }
  }
}

// The SEAMCALLs KVM issues for the plan's steps (KVM_TDX_INIT_VM: TDH.MNG.INIT,
// KVM_TDX_INIT_VCPU: TDH.VP.INIT, KVM_TDX_INIT_MEM_REGION: per page TDH.MEM.PAGE.ADD and,
// with MEASURE, 16 TDH.MR.EXTENDs, KVM_TDX_FINALIZE_VM: TDH.MR.FINALIZE), played through
// the TDX module model: every call is accepted, and the MRTD equals the one the
// in-process backends' build accumulates (tdx::TdxModule::build_td) for the same image.
TEST(TdxPlan, TheSeamcallsOfThePlanBuildTheSameMrtdAsTheInProcessBackends) {
  for (uint32_t vcpus : {1u, 3u}) {
    const TdImage img = sample_image(vcpus);
    const TdxPlan p = plan_tdx_launch(img);
    GuestMemory mem(img);
    tdsim::tdx::TdBuild model(mem);
    for (const TdxStep& st : p.steps) {
      tdsim::tdx::SeamcallResult r;
      switch (st.ioctl) {
        case TdxIoctl::kTdxInitVm: {
          const auto& iv = std::get<InitVmPayload>(st.payload);
          r = model.mng_init({iv.attributes, 0x3, iv.gpaw, img.nr_vcpus});
          break;
        }
        case TdxIoctl::kTdxInitVcpu: r = model.vp_init(); break;
        case TdxIoctl::kTdxInitMemRegion: {
          const auto& m = std::get<InitMemRegionPayload>(st.payload);
          for (uint64_t k = 0; k < m.nr_pages && r.ok(); ++k) {
            const uint64_t gpa = m.gpa + k * 4096;
            r = model.page_add(gpa);
            for (uint64_t c = 0; m.measure && c < 4096 && r.ok(); c += 256) r = model.mr_extend(gpa + c);
          }
          break;
        }
        case TdxIoctl::kTdxFinalizeVm: r = model.mr_finalize(); break;
        default: break;
      }
      ASSERT_TRUE(r.ok()) << st.description << ": " << r.why;
    }
    ASSERT_TRUE(model.mrtd().has_value());
    GuestMemory mem2(img);
    tdsim::tdx::TdxModule module(img, mem2);
    module.build_td();
    EXPECT_EQ(*model.mrtd(), module.mrtd()) << vcpus << " vCPUs";
    EXPECT_EQ(*model.mrtd(), measure::predict_mrtd(img)) << vcpus << " vCPUs";
  }
}

TEST(TdxPlan, RunsOfEqualFlagsAreMergedWithinARegion) {
  TdImage img = sample_image();
  TdxPlan p = plan_tdx_launch(img);
  std::map<uint64_t, uint64_t> by_gpa;
  for (size_t a : indices(p, TdxIoctl::kTdxInitMemRegion)) {
    const auto& m = std::get<InitMemRegionPayload>(p.steps[a].payload);
    by_gpa[m.gpa] = m.nr_pages;
  }
  EXPECT_EQ(by_gpa.at(0x400000), 3u);  // filler: one unmeasured run
  EXPECT_EQ(by_gpa.at(0x403000), 2u);  // elf: adjacent but its own region and flag
  EXPECT_EQ(by_gpa.at(kvmtest::kPml4Gpa), 4u);
}

TEST(TdxPlan, MemslotsAreUntaggedAndOnlyPrivateOnesUseGuestMemfd) {
  TdImage img = sample_image();
  TdxPlan p = plan_tdx_launch(img);
  auto slots = indices(p, TdxIoctl::kSetUserMemoryRegion2);
  auto memfds = indices(p, TdxIoctl::kCreateGuestMemfd);
  ASSERT_EQ(slots.size(), img.regions.size());
  std::set<uint32_t> ids;
  size_t nr_private = 0;
  for (size_t s : slots) {
    const auto& m = std::get<MemRegion2Payload>(p.steps[s].payload);
    const Region& r = img.regions[m.region];
    ids.insert(m.slot);
    EXPECT_EQ(m.gpa, r.gpa);  // KVM strips the S-bit before the memslot lookup
    EXPECT_EQ(m.gpa & img.shared_bit, 0u);
    EXPECT_EQ(m.guest_memfd, !r.shared);
    EXPECT_EQ((m.flags & tdx::kMemGuestMemfd) != 0, !r.shared);
    nr_private += !r.shared;
  }
  EXPECT_EQ(ids.size(), slots.size());
  EXPECT_EQ(memfds.size(), nr_private);
}

TEST(TdxPlan, IoctlNumbersCarryTheUapiStructSizes) {
  TdxPlan p = plan_tdx_launch(sample_image());
  for (const TdxStep& s : p.steps) {
    const unsigned size = _IOC_SIZE(s.request);
    switch (s.ioctl) {
      case TdxIoctl::kTdxCapabilities:
      case TdxIoctl::kTdxInitVm:
      case TdxIoctl::kTdxGetCpuid:
      case TdxIoctl::kTdxInitVcpu:
      case TdxIoctl::kTdxInitMemRegion:
      case TdxIoctl::kTdxFinalizeVm:
        EXPECT_EQ(s.request, 0xC008AEBAul);  // KVM_MEMORY_ENCRYPT_OP
        EXPECT_NE(s.tdx_cmd, ~0u);
        break;
      case TdxIoctl::kCreateGuestMemfd: EXPECT_EQ(size, 64u); break;
      case TdxIoctl::kSetUserMemoryRegion2: EXPECT_EQ(size, 160u); break;
      case TdxIoctl::kSetMemoryAttributes: EXPECT_EQ(size, 32u); break;
      case TdxIoctl::kEnableSplitIrqchip:
      case TdxIoctl::kEnableExitHypercall:
      case TdxIoctl::kEnableMaxVcpus: EXPECT_EQ(size, sizeof(kvm_enable_cap)); break;
      // The kernel's struct kvm_cpuid2 header is 8 bytes (not C++'s sizeof, see tdx_uapi.h).
      case TdxIoctl::kSetCpuid2: EXPECT_EQ(s.request, 0x4008AE90ul); break;
      default: break;
    }
  }
  EXPECT_EQ(sizeof(tdx::TdxCmd), 24u);
  EXPECT_EQ(sizeof(tdx::TdxInitMemRegion), 24u);
  EXPECT_EQ(sizeof(tdx::TdxInitVmHeader), 264u);
  EXPECT_EQ(sizeof(tdx::TdxCapabilitiesHeader), 2056u);
}

// The one KVM_ENABLE_CAP step of kind `k` on the VM, its payload.
EnableCapPayload vm_enable_cap(const TdxPlan& p, TdxIoctl k) {
  const auto at = indices(p, k);
  EXPECT_EQ(at.size(), 1u) << p.to_text();
  if (at.size() != 1) return {};
  const TdxStep& s = p.steps[at[0]];
  EXPECT_EQ(s.scope.kind, TdxScope::kVm);
  EXPECT_EQ(s.request, static_cast<unsigned long>(KVM_ENABLE_CAP));
  return std::get<EnableCapPayload>(s.payload);
}

// MapGPA reaches the VMM only when userspace asked for KVM_HC_MAP_GPA_RANGE exits
// (KVM_CAP_EXIT_HYPERCALL, 201); else KVM answers the guest SUBFUNC_UNSUPPORTED.
TEST(TdxPlan, EnablesMapGpaHypercallExitsOnTheVm) {
  const TdxPlan p = plan_tdx_launch(sample_image());
  const EnableCapPayload cap = vm_enable_cap(p, TdxIoctl::kEnableExitHypercall);
  EXPECT_EQ(cap.cap, 201);
  EXPECT_EQ(cap.arg0, 1ull << 12);
  EXPECT_LT(indices(p, TdxIoctl::kEnableExitHypercall)[0], indices(p, TdxIoctl::kRun)[0]);
}

// KVM_TDX_INIT_VM puts the VM's max_vcpus into TD_PARAMS.MAX_VCPUS: a lowered limit is
// KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS) on the VM before INIT_VM and every vCPU; no
// configured limit, no step (KVM's own stands).
TEST(TdxPlan, LowersMaxVcpusBeforeInitVmOnlyWhenConfigured) {
  EXPECT_TRUE(indices(plan_tdx_launch(sample_image()), TdxIoctl::kEnableMaxVcpus).empty());
  ::tdsim::tdx::TdxConfig config;
  config.max_vcpus = 3;
  const TdxPlan p = plan_tdx_launch(sample_image(), config);
  const EnableCapPayload cap = vm_enable_cap(p, TdxIoctl::kEnableMaxVcpus);
  EXPECT_EQ(cap.cap, KVM_CAP_MAX_VCPUS);
  EXPECT_EQ(cap.arg0, 3u);
  const size_t at = indices(p, TdxIoctl::kEnableMaxVcpus)[0];
  EXPECT_LT(at, indices(p, TdxIoctl::kTdxInitVm)[0]);
  EXPECT_LT(at, indices(p, TdxIoctl::kCreateVcpu)[0]);
}

TEST(TdxPlan, IsAPureFunctionOfTheImage) {
  TdImage img = sample_image();
  EXPECT_EQ(plan_tdx_launch(img).to_text(), plan_tdx_launch(img).to_text());
  img.init_rcx = 7;
  EXPECT_NE(plan_tdx_launch(img).to_text(), plan_tdx_launch(sample_image()).to_text());
}

}  // namespace
}  // namespace tdsim::kvm
