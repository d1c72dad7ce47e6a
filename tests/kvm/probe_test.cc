// The host probe on this machine: what it reports must agree with what KVM does.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/backend.h"
#include "kvm/kvm_vm.h"
#include "kvm/probe.h"
#include "kvm/tdx_uapi.h"

namespace tdsim {
namespace {

TEST(HostProbe, ReportsBothBackendsWithReasons) {
  kvm::HostProbe p = kvm::probe_host();
  ASSERT_NE(p.backend("kvm"), nullptr);
  ASSERT_NE(p.backend("kvm-tdx"), nullptr);
  EXPECT_EQ(p.backend("unicorn"), nullptr);
  for (const auto& b : p.backends) EXPECT_EQ(b.can_run, b.reason.empty()) << b.name;
  EXPECT_EQ(p.kvm_usable, p.backend("kvm")->can_run);
  EXPECT_EQ(p.tdx_usable, p.backend("kvm-tdx")->can_run);
  EXPECT_GE(p.host_maxphyaddr, 36u);
  EXPECT_NE(kvm::describe(p).find("backend kvm-tdx:"), std::string::npos);
}

TEST(HostProbe, PlainKvmVerdictMatchesCreatingAVm) {
  kvm::HostProbe p = kvm::probe_host();
  if (!p.dev_kvm_present) {
    EXPECT_FALSE(p.backend("kvm")->can_run);
    GTEST_SKIP() << "/dev/kvm missing: " << p.backend("kvm")->reason;
  }
  bool created = true;
  try {
    kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
    vm.create_vcpu(0);
  } catch (const BackendError&) {
    created = false;
  }
  EXPECT_EQ(p.backend("kvm")->can_run, created);
  if (created) {
    EXPECT_TRUE(p.dev_kvm_openable);
    EXPECT_EQ(p.api_version, 12);
  }
}

TEST(HostProbe, TdxVerdictMatchesVmTypesMask) {
  kvm::HostProbe p = kvm::probe_host();
  if (!p.dev_kvm_openable)
    GTEST_SKIP() << "/dev/kvm unusable: " << p.backend("kvm")->reason;
  bool tdx_created = true;
  try {
    kvm::KvmVm vm(kvm::tdx::kX86TdxVm);
  } catch (const BackendError& e) {
    tdx_created = false;
    EXPECT_STREQ(e.what(), "KVM_CREATE_VM: Invalid argument");
  }
  EXPECT_EQ(p.tdx_vm_type, tdx_created);
  const auto* tdx = p.backend("kvm-tdx");
  if (!p.tdx_vm_type) {
    EXPECT_FALSE(tdx->can_run);
    EXPECT_NE(tdx->reason.find("KVM_CAP_VM_TYPES"), std::string::npos) << tdx->reason;
    if (p.vm_types_cap) {
      EXPECT_NE(tdx->reason.find("lacks bit 5"), std::string::npos) << tdx->reason;
    }
  }
}

TEST(HostProbe, ThisMachineRunsPlainKvmButNotTdx) {
  // The development machines: nested KVM offering only the default VM type.
  kvm::HostProbe p = kvm::probe_host();
  if (!p.backend("kvm")->can_run) GTEST_SKIP() << "plain KVM unusable: " << p.backend("kvm")->reason;
  if (p.tdx_vm_type) GTEST_SKIP() << "this host offers TDX VMs (a TDX machine)";
  EXPECT_EQ(p.vm_types_mask & 1, 1u);
  EXPECT_FALSE(p.backend("kvm-tdx")->can_run);
}

}  // namespace
}  // namespace tdsim
