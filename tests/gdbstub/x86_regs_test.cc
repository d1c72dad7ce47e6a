// The amd64 register file gdb expects without a target description, on a real engine.
#include "gdbstub/x86_regs.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tdsim::gdbstub {
namespace {

struct Engine {
  uc_engine* uc = nullptr;
  Engine() { EXPECT_EQ(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK); }
  ~Engine() { uc_close(uc); }
  uint64_t get(int id) {
    uint64_t v = 0;
    uc_reg_read(uc, id, &v);
    return v;
  }
  void set(int id, uint64_t v) { ASSERT_EQ(uc_reg_write(uc, id, &v), UC_ERR_OK); }
};

uint64_t le64(const std::vector<uint8_t>& b, size_t off) {
  uint64_t v = 0;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}

TEST(X86Regs, LayoutMatchesGdbAmd64Numbering) {
  const auto regs = amd64_registers();
  ASSERT_EQ(regs.size(), 57u);
  EXPECT_STREQ(regs[0].name, "rax");
  EXPECT_STREQ(regs[7].name, "rsp");
  EXPECT_STREQ(regs[kRegRip].name, "rip");
  EXPECT_STREQ(regs[kRegEflags].name, "eflags");
  EXPECT_STREQ(regs[18].name, "cs");
  EXPECT_STREQ(regs[24].name, "st0");
  EXPECT_STREQ(regs[40].name, "xmm0");
  EXPECT_STREQ(regs[56].name, "mxcsr");
  EXPECT_EQ(g_offset(kRegRip), 128u);
  EXPECT_EQ(g_offset(kRegEflags), 136u);
  EXPECT_EQ(g_offset(18), 140u);
  EXPECT_EQ(g_offset(24), 164u);
  EXPECT_EQ(g_offset(40), 276u);
  EXPECT_EQ(g_packet_bytes(), 536u);
}

TEST(X86Regs, ReadAllPutsEngineValuesAtGdbOffsets) {
  Engine e;
  e.set(UC_X86_REG_RAX, 0x1122334455667788);
  e.set(UC_X86_REG_RSP, 0x804ff8);
  e.set(UC_X86_REG_R15, 0xdeadbeefcafef00d);
  e.set(UC_X86_REG_RIP, 0xfffffff0);
  const auto b = read_all_registers(e.uc);
  ASSERT_EQ(b.size(), g_packet_bytes());
  EXPECT_EQ(le64(b, 0), 0x1122334455667788u);
  EXPECT_EQ(le64(b, 7 * 8), 0x804ff8u);
  EXPECT_EQ(le64(b, 15 * 8), 0xdeadbeefcafef00du);
  EXPECT_EQ(le64(b, g_offset(kRegRip)), 0xfffffff0u);
  EXPECT_EQ(read_register(e.uc, kRegRip), std::vector<uint8_t>({0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0}));
  EXPECT_EQ(read_register(e.uc, 57), std::nullopt);
}

TEST(X86Regs, WriteRegisterReachesEngineAndChecksSize) {
  Engine e;
  const std::vector<uint8_t> rip = {0x00, 0x00, 0x40, 0, 0, 0, 0, 0};
  EXPECT_TRUE(write_register(e.uc, kRegRip, rip));
  EXPECT_EQ(e.get(UC_X86_REG_RIP), 0x400000u);
  EXPECT_FALSE(write_register(e.uc, kRegRip, std::vector<uint8_t>(4)));
  EXPECT_FALSE(write_register(e.uc, 99, rip));
}

TEST(X86Regs, SelectorsAreReadOnlyButAcceptTheirCurrentValue) {
  Engine e;
  auto cs = read_register(e.uc, 18);
  ASSERT_TRUE(cs);
  EXPECT_TRUE(write_register(e.uc, 18, *cs));
  auto other = *cs;
  other[0] ^= 0x08;
  EXPECT_FALSE(write_register(e.uc, 18, other));
  EXPECT_EQ(read_register(e.uc, 18), cs);
}

TEST(X86Regs, WriteAllRoundTripsAChangedRegister) {
  Engine e;
  auto b = read_all_registers(e.uc);
  const uint64_t rbx = 0x0123456789abcdef;
  std::memcpy(b.data() + 8, &rbx, 8);
  EXPECT_TRUE(write_all_registers(e.uc, b));
  EXPECT_EQ(e.get(UC_X86_REG_RBX), rbx);
  EXPECT_EQ(read_all_registers(e.uc), b);
  b.pop_back();
  EXPECT_FALSE(write_all_registers(e.uc, b));
}

}  // namespace
}  // namespace tdsim::gdbstub
