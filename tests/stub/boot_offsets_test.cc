// The generated td_boot_offsets.h must agree with the ABI structs it was generated from.
#include <gtest/gtest.h>

#include <cstddef>

#include "td_boot_offsets.h"
#include "tdsim/abi/td_boot.h"


TEST(BootOffsets, MatchTdBootParamsStruct) {
  EXPECT_EQ(TD_BOOT_PARAMETERS_GPA, tdsim::abi::kTdBootParamsGpa);
  EXPECT_EQ(TD_BOOT_PARAMETERS_CR0, offsetof(tdsim::abi::TdBootParams, cr0));
  EXPECT_EQ(TD_BOOT_PARAMETERS_CR3, offsetof(tdsim::abi::TdBootParams, cr3));
  EXPECT_EQ(TD_BOOT_PARAMETERS_CR4, offsetof(tdsim::abi::TdBootParams, cr4));
  EXPECT_EQ(TD_BOOT_PARAMETERS_GDT, offsetof(tdsim::abi::TdBootParams, gdtr));
  EXPECT_EQ(TD_BOOT_PARAMETERS_IDT, offsetof(tdsim::abi::TdBootParams, idtr));
  EXPECT_EQ(TD_PER_VCPU_OFFSET, tdsim::abi::kTdPerVcpuOffset);
}

TEST(BootOffsets, MatchPerVcpuStruct) {
  EXPECT_EQ(TD_PER_VCPU_PARAMETERS_ESP_GVA, offsetof(tdsim::abi::TdPerVcpuParams, esp_gva));
  EXPECT_EQ(TD_PER_VCPU_PARAMETERS_GUEST_CODE, offsetof(tdsim::abi::TdPerVcpuParams, guest_code));
  EXPECT_EQ(SIZEOF_TD_PER_VCPU_PARAMETERS, sizeof(tdsim::abi::TdPerVcpuParams));
}

TEST(BootOffsets, MatchConstants) {
  EXPECT_EQ(KERNEL_CS, tdsim::abi::kKernelCs);
  EXPECT_EQ(RESET_VECTOR, tdsim::abi::kResetVector);
  EXPECT_EQ(TD_BOOT_MAX_STUB_SIZE, tdsim::abi::kMaxStubSize);
}
