// Properties of the built-in stub blob that the layout and the TD rely on: it fits the
// reset vector's JMP rel8, its only absolute address (the far jump) points into its
// final copy, it never writes EFER, and its labels describe the blob.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "bootstub/stub/builtin_stub.h"
#include "tdsim/abi/td_boot.h"


namespace {

uint64_t final_base() { return tdsim::abi::kResetVector - tdsim::builtin_stub().size(); }

const tdsim::Symbol* find_symbol(const std::vector<tdsim::Symbol>& syms, const std::string& name) {
  for (const auto& s : syms) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

TEST(BuiltinStub, FitsResetVectorJmpRel8) {
  const auto blob = tdsim::builtin_stub();
  ASSERT_FALSE(blob.empty());
  EXPECT_LE(blob.size() + 2, 128u) << "stub is " << blob.size() << " bytes";
}

TEST(BuiltinStub, FirstInstructionIsCli) {
  const auto blob = tdsim::builtin_stub();
  ASSERT_FALSE(blob.empty());
  EXPECT_EQ(blob[0], 0xFA);
}

TEST(BuiltinStub, FarJumpTargetsLong64LabelInFinalCopy) {
  const auto blob = tdsim::builtin_stub();
  const uint64_t base = final_base();
  const auto syms = tdsim::builtin_stub_symbols(base);
  const tdsim::Symbol* long64 = find_symbol(syms, "td_boot_long64");
  ASSERT_NE(long64, nullptr);
  // The far jump (EA ptr16:32, 7 bytes) is the last 32-bit instruction.
  const uint64_t off = long64->addr - base;
  ASSERT_GE(off, 7u);
  ASSERT_LE(off, blob.size());
  const uint8_t* jmp = blob.data() + off - 7;
  ASSERT_EQ(jmp[0], 0xEA) << "no far jump right before td_boot_long64";
  const uint32_t target = jmp[1] | jmp[2] << 8 | jmp[3] << 16 | uint32_t{jmp[4]} << 24;
  const uint16_t selector = static_cast<uint16_t>(jmp[5] | jmp[6] << 8);
  EXPECT_EQ(target, long64->addr);
  EXPECT_EQ(selector, tdsim::abi::kKernelCs);
  // Exactly one far jump opcode: a second EA would be an unreviewed absolute address.
  EXPECT_EQ(std::count(blob.begin(), blob.end(), uint8_t{0xEA}), 1);
}

TEST(BuiltinStub, NeverWritesMsrs) {
  const auto blob = tdsim::builtin_stub();
  for (size_t i = 0; i + 1 < blob.size(); ++i) {
    EXPECT_FALSE(blob[i] == 0x0F && blob[i + 1] == 0x30) << "wrmsr at offset " << i;
  }
}

TEST(BuiltinStub, SymbolsLieInsideTheStub) {
  const auto blob = tdsim::builtin_stub();
  const uint64_t base = final_base();
  const auto syms = tdsim::builtin_stub_symbols(base);
  ASSERT_NE(find_symbol(syms, "td_boot_start"), nullptr);
  ASSERT_NE(find_symbol(syms, "td_boot_end"), nullptr);
  EXPECT_EQ(find_symbol(syms, "td_boot_start")->addr, base);
  EXPECT_EQ(find_symbol(syms, "td_boot_end")->addr, base + blob.size());
  for (const auto& s : syms) {
    EXPECT_GE(s.addr, base) << s.name;
    EXPECT_LE(s.addr + s.size, base + blob.size()) << s.name;
  }
}

TEST(BuiltinStub, SymbolsFollowTheBase) {
  const auto a = tdsim::builtin_stub_symbols(0x1000);
  const auto b = tdsim::builtin_stub_symbols(0x2000);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(b[i].addr - a[i].addr, 0x1000u) << a[i].name;
  }
}
