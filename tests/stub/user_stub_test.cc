// User stubs built with tdsim_add_stub (here the deliberately broken no_pae stub) come
// out of the same pipeline as the built-in one: flat, sized for the reset vector's
// JMP rel8, with the far jump aimed at their own final copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "tdsim/abi/td_boot.h"
#include "tests/guests/test_assets.h"

TEST(UserStub, NoPaeStubIsAFlatBlobThatFitsTheResetVector) {
  const auto blob = tdsim::test::read_asset(TDSIM_STUB_NO_PAE_BIN);
  ASSERT_FALSE(blob.empty());
  EXPECT_LE(blob.size() + 2, 128u);
  EXPECT_EQ(blob[0], 0xFA) << "first instruction is not CLI";
}

TEST(UserStub, NoPaeStubFarJumpTargetsItsOwnFinalCopy) {
  const auto blob = tdsim::test::read_asset(TDSIM_STUB_NO_PAE_BIN);
  // Tail: EA ptr16:32 (7 bytes), then the 3-byte `jmp *8(%rax)` at the 64-bit label.
  ASSERT_GE(blob.size(), 10u);
  const uint8_t* jmp = blob.data() + blob.size() - 10;
  ASSERT_EQ(jmp[0], 0xEA);
  const uint32_t target = jmp[1] | jmp[2] << 8 | jmp[3] << 16 | uint32_t{jmp[4]} << 24;
  const uint64_t base = tdsim::abi::kResetVector - blob.size();
  EXPECT_EQ(target, base + blob.size() - 3);
  EXPECT_EQ(jmp[5] | jmp[6] << 8, tdsim::abi::kKernelCs);
}

TEST(UserStub, NoPaeStubClearsCr4PaeBeforeWritingCr4) {
  const auto blob = tdsim::test::read_asset(TDSIM_STUB_NO_PAE_BIN);
  // and $~0x20, %edi (83 E7 DF) directly followed by mov %edi, %cr4 (0F 22 E7).
  const uint8_t seq[] = {0x83, 0xE7, 0xDF, 0x0F, 0x22, 0xE7};
  bool found = false;
  for (size_t i = 0; i + sizeof(seq) <= blob.size() && !found; ++i) {
    found = std::equal(seq, seq + sizeof(seq), blob.begin() + static_cast<std::ptrdiff_t>(i));
  }
  EXPECT_TRUE(found);
}
