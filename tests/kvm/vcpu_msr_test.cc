// One MSR through KVM_SET_MSRS / KVM_GET_MSRS with the kernel's layout: a value set is the
// value read back (with C++'s struct kvm_msrs the entry sits 8 bytes past where the
// kernel reads it, so KVM saw MSR 0 = 0 and this round trip read the old value).
#include <gtest/gtest.h>

#include "kvm/kvm_vm.h"
#include "kvm/tdx_uapi.h"
#include "kvm/vcpu_msr.h"
#include "kvm_skip.h"

namespace tdsim {
namespace {

TEST(VcpuMsr, AValueSetIsTheValueReadBack) {
  TDSIM_REQUIRE_PLAIN_KVM();
  kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
  kvm::KvmVcpu& v = vm.create_vcpu(0);
  constexpr uint32_t kSysenterCs = 0x174, kSysenterEsp = 0x175;
  ASSERT_TRUE(kvm::set_vcpu_msr(v.fd(), kSysenterCs, 0x1234));
  ASSERT_TRUE(kvm::set_vcpu_msr(v.fd(), kSysenterEsp, 0xffff800012345678ull));
  EXPECT_EQ(kvm::get_vcpu_msr(v.fd(), kSysenterCs), std::optional<uint64_t>(0x1234));
  EXPECT_EQ(kvm::get_vcpu_msr(v.fd(), kSysenterEsp), std::optional<uint64_t>(0xffff800012345678ull));
}

}  // namespace
}  // namespace tdsim
