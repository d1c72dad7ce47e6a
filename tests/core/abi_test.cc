// ABI layouts: compile-time static_asserts pin them; these tests document the numbers
// and catch a header that stopped including its asserts.
#include <gtest/gtest.h>

#include <cstddef>

#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"

using namespace tdsim::abi;

TEST(Abi, BootParamsMatchSelftestsLayout) {
  EXPECT_EQ(offsetof(TdBootParams, cr0), 0u);
  EXPECT_EQ(offsetof(TdBootParams, cr3), 4u);
  EXPECT_EQ(offsetof(TdBootParams, cr4), 8u);
  EXPECT_EQ(offsetof(TdBootParams, gdtr), 12u);
  EXPECT_EQ(offsetof(TdBootParams, idtr), 18u);
  EXPECT_EQ(kTdPerVcpuOffset, 24u);
  EXPECT_EQ(sizeof(TdBootDtr), 6u);
  EXPECT_EQ(sizeof(TdPerVcpuParams), 16u);
  EXPECT_EQ(offsetof(TdPerVcpuParams, guest_code), 8u);
  EXPECT_EQ(kTdBootParamsGpa, 0xffff0000u);
  EXPECT_EQ(kMaxVcpusPerParamsPage, 254u);
}

TEST(Abi, UcallMatchesSelftestsStruct) {
  EXPECT_EQ(sizeof(Ucall), 1096u);
  EXPECT_EQ(offsetof(Ucall, buffer), 64u);
  EXPECT_EQ(offsetof(Ucall, self), 1088u);
  EXPECT_EQ(kUcallPrintf, 3u);
  EXPECT_EQ(kUcallDone, 4u);
  EXPECT_EQ(kUcallUnhandled, 5u);
}

TEST(Abi, TdxConstants) {
  EXPECT_EQ(kVmcallRequestMmio, 48u);
  EXPECT_EQ(kVmcallExposeR10toR15, 0xFC00u);
  EXPECT_EQ(kVmcallForbiddenExposeBits, 0x33u);
  EXPECT_EQ(shared_bit_for_gpaw(48), 1ull << 47);
  EXPECT_EQ(shared_bit_for_gpaw(52), 1ull << 51);
  EXPECT_EQ(kTdInitEfer, 0x901u);
  EXPECT_EQ(kTdxCr4Fixed0, 0x6000u);
}
