// The MOV-to-CR checks the simulator adds to Unicorn: decoding, and each rule's verdict
// against the architectural (SDM) and TDX fixed-bit constraints.
#include "sim/stub_cr_checks.h"

#include <gtest/gtest.h>

#include "tdsim/abi/tdx.h"

namespace tdsim::sim {
namespace {

using namespace abi;
constexpr uint64_t kTdCr4 = 0x40260;  // PAE MCE OSFXSR OSXSAVE
constexpr uint64_t kPagingCr0 = 0x80000021;

CrState reset_state() { return CrState{kTdInitCr0, kTdInitCr4, kTdInitEfer, false, 48}; }
CrState long_state() { return CrState{kPagingCr0, kTdCr4, kTdInitEfer | kEferLma, true, 48}; }

std::string rule(int cr, uint64_t v, const CrState& s) {
  auto r = check_cr_write(cr, v, s);
  return r ? r->rule : "ok";
}

TEST(StubCrDecode, MovToCrInBothModes) {
  const uint8_t cr0_edi[] = {0x0f, 0x22, 0xc7};
  auto m = decode_mov_to_cr(cr0_edi, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cr, 0);
  EXPECT_EQ(m->gpr, 7);
  EXPECT_EQ(m->length, 3u);
  const uint8_t cr4_r9[] = {0x41, 0x0f, 0x22, 0xe1};  // mov cr4, r9
  m = decode_mov_to_cr(cr4_r9, true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->cr, 4);
  EXPECT_EQ(m->gpr, 9);
  EXPECT_EQ(m->length, 4u);
  EXPECT_FALSE(decode_mov_to_cr(cr4_r9, false)) << "0x41 is INC ECX in 32-bit mode";
  const uint8_t mov_from_cr0[] = {0x0f, 0x20, 0xc0};
  EXPECT_FALSE(decode_mov_to_cr(mov_from_cr0, false));
}

TEST(StubCrChecks, TheBuiltInSequenceIsAccepted) {
  CrState s = reset_state();
  EXPECT_EQ(rule(4, kTdCr4, s), "ok");
  s.cr4 = kTdCr4;
  EXPECT_EQ(rule(3, 0x1000, s), "ok");
  EXPECT_EQ(rule(0, kPagingCr0, s), "ok");
}

TEST(StubCrChecks, PagingWithLmeNeedsPae) {
  CrState s = reset_state();  // CR4 = MCE only
  auto v = check_cr_write(0, kPagingCr0, s);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->rule, "cr4-pae-missing");
  EXPECT_EQ(v->field, "boot_params.cr4");
  EXPECT_NE(v->message.find("CR4 0x40 lacks PAE (0x20): paging with EFER.LME needs it"), std::string::npos);
  EXPECT_FALSE(v->tdx_only);
  s.efer = 0;  // without LME, 32-bit paging is legal (but not a TD state)
  EXPECT_EQ(rule(0, kPagingCr0, s), "ok");
}

TEST(StubCrChecks, PagingWithoutProtectedModeIsGp) {
  EXPECT_EQ(rule(0, 0x80000020, reset_state()), "cr0-pg-without-pe");
}

TEST(StubCrChecks, ClearingPaeInIa32eIsGp) {
  EXPECT_EQ(rule(4, kTdCr4 & ~kCr4Pae, long_state()), "cr4-pae-cleared-in-ia32e");
  EXPECT_EQ(rule(4, kTdCr4 & ~kCr4Pae, reset_state()), "ok") << "legal before IA-32e is active";
}

TEST(StubCrChecks, TdxFixedCr4Bits) {
  for (uint64_t v : {kTdCr4 | kCr4Vmxe, kTdCr4 | kCr4Smxe, kTdCr4 & ~kCr4Mce}) {
    auto r = check_cr_write(4, v, reset_state());
    ASSERT_TRUE(r) << std::hex << v;
    EXPECT_EQ(r->rule, "cr4-fixed-bits");
    EXPECT_TRUE(r->tdx_only);
  }
  EXPECT_NE(check_cr_write(4, kTdCr4 | kCr4Vmxe, reset_state())->message.find("CR4.VMXE set: TDX fixes VMXE to 0"),
            std::string::npos);
}

TEST(StubCrChecks, TdxFixedCr0Bits) {
  EXPECT_EQ(rule(0, 0x1, reset_state()), "cr0-fixed-bits");  // NE cleared
}

TEST(StubCrChecks, ClearingPagingIn64BitModeIsGp) {
  EXPECT_EQ(rule(0, 0x21, long_state()), "cr0-pg-clear-in-64bit");
}

TEST(StubCrChecks, Cr3AboveMaxphyaddrIn64BitModeIsGp) {
  EXPECT_EQ(rule(3, 1ull << 48, long_state()), "cr3-reserved");
  EXPECT_EQ(rule(3, (1ull << 63) | 0x1000, long_state()), "ok") << "bit 63 is the no-flush hint";
}

TEST(StubCrChecks, ThirtyTwoBitMovesUseTheLowHalf) {
  CrState s = reset_state();
  s.cr4 = kTdCr4;
  EXPECT_EQ(rule(0, 0xffffffff00000000ull | kPagingCr0, s), "ok");
}

}  // namespace
}  // namespace tdsim::sim
