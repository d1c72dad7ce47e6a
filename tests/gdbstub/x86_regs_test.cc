// gdb's two register files (amd64, i386) over the Unicorn debug target in the TD reset
// state, and the target descriptions written from them.
#include "gdbstub/x86_regs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "gdbstub/target_description.h"
#include "sim/sim_debug_target.h"
#include "td_image_fixture.h"

namespace tdsim::gdbstub {
namespace {

uint64_t le(const std::vector<uint8_t>& b, size_t off, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, b.data() + off, n);
  return v;
}

struct Rig {
  TdImage image = test::image_for(TDSIM_GUEST_HELLO_ELF);
  sim::Session session{image};
  sim::SimDebugTarget target{session};
  uint64_t uc(int id) {
    uint64_t v = 0;
    uc_reg_read(session.vcpu(0).engine(), id, &v);
    return v;
  }
};

TEST(X86Regs, Amd64LayoutMatchesGdbNumberingThenSegmentBasesAndControl) {
  const auto r = gdb_registers(Layout::kAmd64);
  ASSERT_EQ(r.size(), 64u);
  EXPECT_STREQ(r[0].name, "rax");
  EXPECT_STREQ(r[7].name, "rsp");
  EXPECT_STREQ(r[16].name, "rip");
  EXPECT_STREQ(r[17].name, "eflags");
  EXPECT_STREQ(r[18].name, "cs");
  EXPECT_STREQ(r[24].name, "st0");
  EXPECT_STREQ(r[40].name, "xmm0");
  EXPECT_STREQ(r[56].name, "mxcsr");
  EXPECT_STREQ(r[57].name, "fs_base");
  EXPECT_STREQ(r[59].name, "cr0");
  EXPECT_STREQ(r[63].name, "efer");
  EXPECT_EQ(pc_regnum(Layout::kAmd64), 16u);
  EXPECT_EQ(g_offset(Layout::kAmd64, 16), 128u);
  EXPECT_EQ(g_offset(Layout::kAmd64, 18), 140u);
  EXPECT_EQ(g_offset(Layout::kAmd64, 40), 276u);
  EXPECT_EQ(g_offset(Layout::kAmd64, 57), 536u);  // gdb's own 57 registers come first
  EXPECT_EQ(g_packet_bytes(Layout::kAmd64), 536u + 2 * 8 + 5 * 8);
}

TEST(X86Regs, I386LayoutMatchesGdbNumbering) {
  const auto r = gdb_registers(Layout::kI386);
  ASSERT_EQ(r.size(), 46u);
  EXPECT_STREQ(r[0].name, "eax");
  EXPECT_STREQ(r[1].name, "ecx");
  EXPECT_STREQ(r[4].name, "esp");
  EXPECT_STREQ(r[8].name, "eip");
  EXPECT_STREQ(r[10].name, "cs");
  EXPECT_STREQ(r[16].name, "st0");
  EXPECT_STREQ(r[32].name, "xmm0");
  EXPECT_STREQ(r[40].name, "mxcsr");
  EXPECT_STREQ(r[41].name, "cr0");
  EXPECT_STREQ(r[45].name, "efer");
  EXPECT_EQ(pc_regnum(Layout::kI386), 8u);
  EXPECT_EQ(g_offset(Layout::kI386, 8), 32u);
  EXPECT_EQ(g_packet_bytes(Layout::kI386), 10 * 4 + 6 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4 + 5 * 8u);
}

// The TD reset state through both layouts: EIP at the reset vector, protected mode
// without paging, and EFER as the TD sees it (SCE | LME | NXE), whatever the engine keeps.
TEST(X86Regs, ResetStateReadsAsTheTdSeesIt) {
  Rig r;
  EXPECT_EQ(current_layout(r.target, 0), Layout::kI386);
  EXPECT_EQ(cpu_mode(r.target, 0), CpuMode::kProtected32);
  const auto g32 = read_all_registers(r.target, 0, Layout::kI386);
  ASSERT_EQ(g32.size(), g_packet_bytes(Layout::kI386));
  EXPECT_EQ(le(g32, g_offset(Layout::kI386, 8), 4), 0xfffffff0u);
  EXPECT_EQ(le(g32, g_offset(Layout::kI386, 41), 8), 0x21u);   // CR0: PE NE
  EXPECT_EQ(le(g32, g_offset(Layout::kI386, 45), 8), 0x901u);  // EFER
  const auto g64 = read_all_registers(r.target, 0, Layout::kAmd64);
  EXPECT_EQ(le(g64, g_offset(Layout::kAmd64, 16), 8), 0xfffffff0u);
  EXPECT_EQ(le(g64, g_offset(Layout::kAmd64, 63), 8), 0x901u);
  EXPECT_EQ(read_register(r.target, 0, Layout::kAmd64, 64), std::nullopt);
}

// A TD cannot clear EFER.SCE or NXE: should the engine lose them (a guest WRMSR the
// engine honours), the facet still reports the TD's EFER.
TEST(X86Regs, EferKeepsTheBitsATdHoldsFixed) {
  Rig r;
  uc_x86_msr efer{0xc0000080, 0x100};  // LME only
  ASSERT_EQ(uc_reg_write(r.session.vcpu(0).engine(), UC_X86_REG_MSR, &efer), UC_ERR_OK);
  EXPECT_EQ(read_register(r.target, 0, Layout::kAmd64, 63),
            std::vector<uint8_t>({0x01, 0x09, 0, 0, 0, 0, 0, 0}));
}

TEST(X86Regs, NarrowI386WriteKeepsTheUpperHalf) {
  Rig r;
  uint64_t rax = 0x1122334455667788;
  ASSERT_EQ(uc_reg_write(r.session.vcpu(0).engine(), UC_X86_REG_RAX, &rax), UC_ERR_OK);
  EXPECT_TRUE(write_register(r.target, 0, Layout::kI386, 0, std::vector<uint8_t>{0xef, 0xbe, 0xad, 0xde}));
  EXPECT_EQ(r.uc(UC_X86_REG_RAX), 0x11223344deadbeefu);
  EXPECT_FALSE(write_register(r.target, 0, Layout::kI386, 0, std::vector<uint8_t>(8)));  // wrong size
  EXPECT_FALSE(write_register(r.target, 0, Layout::kI386, 99, std::vector<uint8_t>(4)));
}

TEST(X86Regs, SelectorsAndControlRegistersAreReadOnlyButAcceptTheirCurrentValue) {
  Rig r;
  for (const unsigned n : {18u, 59u, 61u, 63u}) {  // cs, cr0, cr3, efer
    auto cur = read_register(r.target, 0, Layout::kAmd64, n);
    ASSERT_TRUE(cur);
    EXPECT_TRUE(write_register(r.target, 0, Layout::kAmd64, n, *cur)) << n;
    auto other = *cur;
    other[1] ^= 0x08;
    EXPECT_FALSE(write_register(r.target, 0, Layout::kAmd64, n, other)) << n;
    EXPECT_EQ(read_register(r.target, 0, Layout::kAmd64, n), cur) << n;
  }
}

TEST(X86Regs, WriteAllRoundTripsAChangedRegister) {
  Rig r;
  auto b = read_all_registers(r.target, 0, Layout::kAmd64);
  const uint64_t rbx = 0x0123456789abcdef;
  std::memcpy(b.data() + 8, &rbx, 8);
  EXPECT_TRUE(write_all_registers(r.target, 0, Layout::kAmd64, b));
  EXPECT_EQ(r.uc(UC_X86_REG_RBX), rbx);
  EXPECT_EQ(read_all_registers(r.target, 0, Layout::kAmd64), b);
  b.pop_back();
  EXPECT_FALSE(write_all_registers(r.target, 0, Layout::kAmd64, b));
}

// Each description lists exactly its layout's registers, in 'g' order, with their sizes.
TEST(TargetDescription, ListsTheLayoutInOrderWithTheStandardFeatures) {
  for (const Layout l : {Layout::kAmd64, Layout::kI386}) {
    const std::string& xml = target_xml(l);
    EXPECT_NE(xml.find(l == Layout::kAmd64 ? "<architecture>i386:x86-64</architecture>"
                                           : "<architecture>i386</architecture>"),
              std::string::npos);
    EXPECT_NE(xml.find("<feature name=\"org.gnu.gdb.i386.core\">"), std::string::npos);
    EXPECT_NE(xml.find("<feature name=\"org.gnu.gdb.i386.sse\">"), std::string::npos);
    EXPECT_NE(xml.find("<feature name=\"org.tdsim.x86.control\">"), std::string::npos);
    EXPECT_EQ(xml.find("org.gnu.gdb.i386.linux"), std::string::npos);
    const std::regex reg("<reg name=\"([a-z0-9_]+)\" bitsize=\"([0-9]+)\"");
    std::vector<std::pair<std::string, unsigned>> listed;
    for (auto it = std::sregex_iterator(xml.begin(), xml.end(), reg); it != std::sregex_iterator(); ++it)
      listed.emplace_back((*it)[1].str(), static_cast<unsigned>(std::stoul((*it)[2].str())));
    const auto regs = gdb_registers(l);
    ASSERT_EQ(listed.size(), regs.size());
    for (size_t i = 0; i < regs.size(); ++i) {
      EXPECT_EQ(listed[i].first, regs[i].name);
      EXPECT_EQ(listed[i].second, regs[i].size * 8u) << regs[i].name;
    }
  }
  EXPECT_NE(target_xml(Layout::kAmd64).find("<feature name=\"org.gnu.gdb.i386.segments\">"), std::string::npos);
}

TEST(TargetDescription, ReadsInChunksAndRefusesOtherAnnexes) {
  const std::string& xml = target_xml(Layout::kAmd64);
  std::string got;
  for (;;) {
    const std::string r = features_read(fmt::format("target.xml:{:x},{:x}", got.size(), 0x100), Layout::kAmd64);
    ASSERT_FALSE(r.empty());
    ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
    got += r.substr(1);
    if (r[0] == 'l') break;
  }
  EXPECT_EQ(got, xml);
  EXPECT_EQ(features_read(fmt::format("target.xml:{:x},10", xml.size() + 5), Layout::kAmd64), "l");
  EXPECT_EQ(features_read("i386-64bit.xml:0,100", Layout::kAmd64), "E00");
  EXPECT_EQ(features_read("target.xml:zz,100", Layout::kAmd64), "E01");
  EXPECT_EQ(features_read("target.xml", Layout::kAmd64), "E01");
}

}  // namespace
}  // namespace tdsim::gdbstub
