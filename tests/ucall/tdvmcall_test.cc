// check_vmcall_mmio: every rule of the TDX module's and KVM's TDG.VP.VMCALL<MMIO> path.
#include "ucall/host/tdvmcall.h"

#include <gtest/gtest.h>

#include "tdsim/abi/tdx.h"

namespace tdsim::ucall {
namespace {

using Kind = VmcallMmioDecision::Kind;
constexpr uint64_t kS = 1ull << 47;
constexpr uint64_t kGpa = 0x2000000;

TdcallRegs mmio_write(uint64_t size = 8, uint64_t data = 0x1122334455667788ull) {
  TdcallRegs r;
  r.rax = 0;
  r.rcx = abi::kVmcallExposeR10toR15;
  r.r10 = 0;
  r.r11 = abi::kVmcallRequestMmio;
  r.r12 = size;
  r.r13 = abi::kMmioWrite;
  r.r14 = kGpa | kS;
  r.r15 = data;
  return r;
}

TEST(TdvmcallMmio, GoodWriteExitsWithUntaggedGpaAndData) {
  const auto d = check_vmcall_mmio(mmio_write(), kS, 3);
  ASSERT_EQ(d.kind, Kind::kExit);
  EXPECT_EQ(d.mmio.vcpu, 3u);
  EXPECT_EQ(d.mmio.gpa, kGpa);
  EXPECT_EQ(d.mmio.len, 8u);
  EXPECT_TRUE(d.mmio.is_write);
  EXPECT_EQ(d.mmio.data, 0x1122334455667788ull);
  EXPECT_EQ(d.rax, 0u);
  EXPECT_EQ(d.r10, 0u);
}

TEST(TdvmcallMmio, WriteDataIsTruncatedToSize) {
  for (auto [size, want] : {std::pair<uint64_t, uint64_t>{1, 0x88}, {2, 0x7788}, {4, 0x55667788}}) {
    const auto d = check_vmcall_mmio(mmio_write(size), kS, 0);
    ASSERT_EQ(d.kind, Kind::kExit);
    EXPECT_EQ(d.mmio.len, size);
    EXPECT_EQ(d.mmio.data, want) << "size " << size;
  }
}

TEST(TdvmcallMmio, ReadExitsWithoutData) {
  auto r = mmio_write(4);
  r.r13 = abi::kMmioRead;
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kExit);
  EXPECT_FALSE(d.mmio.is_write);
  EXPECT_EQ(d.mmio.data, 0u);
}

TEST(TdvmcallMmio, OtherLeafIsNotMmio) {
  auto r = mmio_write();
  r.rax = abi::kTdgVpInfo;
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kNotMmio);
}

TEST(TdvmcallMmio, ForbiddenExposeBitsAreOperandInvalidOnRcx) {
  for (uint64_t bit : {0, 1, 4, 5}) {
    auto r = mmio_write();
    r.rcx |= 1ull << bit;
    r.r10 = 0x77;
    const auto d = check_vmcall_mmio(r, kS, 0);
    ASSERT_EQ(d.kind, Kind::kRejected) << "bit " << bit;
    EXPECT_EQ(d.rax, abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx);
    EXPECT_EQ(d.r10, 0x77u) << "R10 unchanged";
    EXPECT_NE(d.reason.find("RCX"), std::string::npos);
  }
}

TEST(TdvmcallMmio, ReservedExposeBitsAreOperandInvalidOnRcx) {
  auto r = mmio_write();
  r.rcx |= 1ull << 40;
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kRejected);
  EXPECT_EQ(d.rax, abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx);
}

TEST(TdvmcallMmio, RcxCheckComesBeforeTheR10Check) {
  auto r = mmio_write();
  r.rcx |= 1;
  r.r10 = 5;  // a KVM hypercall, but the module refuses the mask first
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kRejected);
}

TEST(TdvmcallMmio, NonZeroR10IsAKvmHypercall) {
  auto r = mmio_write();
  r.r10 = 1;
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kNotMmio);
}

TEST(TdvmcallMmio, OtherSubfunctionIsNotMmio) {
  auto r = mmio_write();
  r.r11 = abi::kVmcallHlt;
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kNotMmio);
}

TEST(TdvmcallMmio, UnexposedR11ReadsZeroSoNotMmio) {
  auto r = mmio_write();
  r.rcx &= ~(1ull << 11);
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kNotMmio);
}

TEST(TdvmcallMmio, UnexposedR10ReadsZeroSoStandardCall) {
  auto r = mmio_write();
  r.rcx &= ~(1ull << 10);
  r.r10 = 9;  // KVM never sees it
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kExit);
}

TEST(TdvmcallMmio, UnexposedR12IsSizeZeroInvalidOperand) {
  auto r = mmio_write();
  r.rcx &= ~(1ull << 12);
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kRejected);
  EXPECT_EQ(d.r10, abi::kVmcallInvalidOperand);
  EXPECT_NE(d.reason.find("not exposed"), std::string::npos) << d.reason;
}

TEST(TdvmcallMmio, UnexposedR14IsPrivateGpaZero) {
  auto r = mmio_write();
  r.rcx &= ~(1ull << 14);
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kRejected);
  EXPECT_EQ(d.r10, abi::kVmcallInvalidOperand);
}

TEST(TdvmcallMmio, UnexposedR15WritesZero) {
  auto r = mmio_write();
  r.rcx &= ~(1ull << 15);
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kExit);
  EXPECT_EQ(d.mmio.data, 0u);
}

TEST(TdvmcallMmio, BadSizeIsInvalidOperand) {
  for (uint64_t size : {0, 3, 5, 16}) {
    const auto d = check_vmcall_mmio(mmio_write(size), kS, 0);
    ASSERT_EQ(d.kind, Kind::kRejected) << size;
    EXPECT_EQ(d.rax, 0u);
    EXPECT_EQ(d.r10, abi::kVmcallInvalidOperand);
  }
}

TEST(TdvmcallMmio, BadDirectionIsInvalidOperand) {
  auto r = mmio_write();
  r.r13 = 2;
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kRejected);
  EXPECT_EQ(d.rax, 0u);
  EXPECT_EQ(d.r10, abi::kVmcallInvalidOperand);
}

TEST(TdvmcallMmio, PrivateGpaIsInvalidOperandNamingGpaAndBit) {
  auto r = mmio_write();
  r.r14 = kGpa;
  const auto d = check_vmcall_mmio(r, kS, 0);
  ASSERT_EQ(d.kind, Kind::kRejected);
  EXPECT_EQ(d.rax, 0u);
  EXPECT_EQ(d.r10, abi::kVmcallInvalidOperand);
  EXPECT_NE(d.reason.find("0x2000000"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("bit 47"), std::string::npos) << d.reason;
}

TEST(TdvmcallMmio, AccessEndingInPrivateSpaceIsInvalidOperand) {
  auto r = mmio_write(8);
  r.r14 = (kS | (kS - 1)) - 3;  // last shared GPA - 3: the last byte crosses the bit
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kRejected);
  r.r14 = (kS | (kS - 1)) - 7;
  EXPECT_EQ(check_vmcall_mmio(r, kS, 0).kind, Kind::kExit);
}

TEST(TdvmcallMmio, Gpaw52UsesBit51) {
  const uint64_t s52 = abi::shared_bit_for_gpaw(52);
  auto r = mmio_write();
  r.r14 = kGpa | s52;
  const auto d = check_vmcall_mmio(r, s52, 0);
  ASSERT_EQ(d.kind, Kind::kExit);
  EXPECT_EQ(d.mmio.gpa, kGpa);
  r.r14 = kGpa | kS;  // bit 47 is an ordinary address bit with GPAW 52
  EXPECT_EQ(check_vmcall_mmio(r, s52, 0).kind, Kind::kRejected);
}

TEST(TdvmcallVmmView, ZeroesEveryUnexposedGpr) {
  TdcallRegs r{1, 0x0104, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};  // expose RDX, R8
  const TdcallRegs v = vmm_view(r);
  EXPECT_EQ(v.rcx, 0x0104u);
  EXPECT_EQ(v.rdx, 3u);
  EXPECT_EQ(v.r8, 7u);
  EXPECT_EQ(v.rax, 0u);
  EXPECT_EQ(v.rbx, 0u);
  EXPECT_EQ(v.rsi, 0u);
  EXPECT_EQ(v.r10, 0u);
  EXPECT_EQ(v.r15, 0u);
}

}  // namespace
}  // namespace tdsim::ucall
