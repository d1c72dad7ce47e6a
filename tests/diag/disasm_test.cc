#include "diag/disasm.h"

#include <gtest/gtest.h>

#include <vector>

namespace tdsim::diag {
namespace {

TEST(Disasm, TdcallMidBufferKeepsTheStreamInSync) {
  // mov rax, rcx; tdcall; xor eax, eax; ret
  const std::vector<uint8_t> code = {0x48, 0x89, 0xc8, 0x66, 0x0f, 0x01, 0xcc, 0x31, 0xc0, 0xc3};
  std::vector<Insn> insns = disassemble_range(code, 0x1000, CpuMode::k64);
  ASSERT_EQ(insns.size(), 4u);
  EXPECT_EQ(insns[0].mnemonic, "mov");
  EXPECT_EQ(insns[1].mnemonic, "tdcall");
  EXPECT_EQ(insns[1].addr, 0x1003u);
  EXPECT_EQ(insns[1].size, 4u);
  EXPECT_EQ(insns[1].bytes, (std::vector<uint8_t>{0x66, 0x0f, 0x01, 0xcc}));
  EXPECT_EQ(insns[2].mnemonic, "xor");
  EXPECT_EQ(insns[2].addr, 0x1007u);
  EXPECT_EQ(insns[3].mnemonic, "ret");
  EXPECT_EQ(insns[3].addr, 0x1009u);
}

TEST(Disasm, SeamOpcodesComeFromTheTable) {
  const char* names[] = {"seamret", "seamops", "seamcall"};
  for (uint8_t last = 0xcd; last <= 0xcf; ++last) {
    const uint8_t b[] = {0x66, 0x0f, 0x01, last, 0x90};
    Insn in = disassemble_one(b, 0, CpuMode::k64);
    EXPECT_EQ(in.mnemonic, names[last - 0xcd]);
    EXPECT_EQ(in.size, 4u);
  }
}

TEST(Disasm, FarJumpPtr16_32In32BitMode) {
  const uint8_t b[] = {0xea, 0xed, 0xff, 0xff, 0xff, 0x08, 0x00};
  Insn in = disassemble_one(b, 0xffffffe6, CpuMode::k32);
  EXPECT_EQ(in.mnemonic, "ljmp");
  EXPECT_EQ(in.operands, "8:0xffffffed");
  EXPECT_EQ(in.size, 7u);
  // 0xEA is not a valid opcode in 64-bit mode.
  EXPECT_TRUE(disassemble_one(b, 0, CpuMode::k64).bad());
}

TEST(Disasm, MovToCr0AndLgdt) {
  const uint8_t mov_cr0[] = {0x0f, 0x22, 0xc7};
  Insn in = disassemble_one(mov_cr0, 0xffffffe3, CpuMode::k32);
  EXPECT_EQ(in.mnemonic, "mov");
  EXPECT_EQ(in.operands, "cr0, edi");
  const uint8_t lgdt[] = {0x0f, 0x01, 0x53, 0x0c};
  in = disassemble_one(lgdt, 0, CpuMode::k32);
  EXPECT_EQ(in.mnemonic, "lgdt");
  EXPECT_EQ(in.operands, "[ebx + 0xc]");
  EXPECT_EQ(in.size, 4u);
}

TEST(Disasm, GarbageIsBadWithItsRawByte) {
  const uint8_t b[] = {0x0f, 0xff};  // truncated / undefined two-byte opcode
  Insn in = disassemble_one(std::span<const uint8_t>(b, 1), 0x40, CpuMode::k64);
  EXPECT_TRUE(in.bad());
  EXPECT_EQ(in.size, 1u);
  EXPECT_EQ(in.bytes, (std::vector<uint8_t>{0x0f}));
  EXPECT_EQ(format_insn(in), "0x40: 0f                      (bad)");
  EXPECT_EQ(disassemble_one({}, 0, CpuMode::k64).size, 0u);
  // PUSH ES does not exist in 64-bit mode; the next byte must still decode on its own.
  const uint8_t push_es_nop[] = {0x06, 0x90};
  std::vector<Insn> insns = disassemble_range(push_es_nop, 0, CpuMode::k64);
  ASSERT_EQ(insns.size(), 2u);
  EXPECT_TRUE(insns[0].bad());
  EXPECT_EQ(insns[1].mnemonic, "nop");
}

TEST(Disasm, TruncatedTdcallIsNotMatched) {
  const uint8_t b[] = {0x66, 0x0f, 0x01};
  EXPECT_NE(disassemble_one(b, 0, CpuMode::k64).mnemonic, "tdcall");
}

TEST(Disasm, FormatShowsAddressBytesAndText) {
  const uint8_t b[] = {0xfa};
  EXPECT_EQ(format_insn(disassemble_one(b, 0xffffffba, CpuMode::k32)),
            "0xffffffba: fa                      cli");
}

}  // namespace
}  // namespace tdsim::diag
