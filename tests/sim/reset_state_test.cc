// The state the code at 0xfffffff0 sees must be the TD initial state (docs/tdx-abi.md,
// "TD initial vCPU state").
#include <gtest/gtest.h>

#include <cstring>

#include "core/backend.h"
#include "hand_image.h"
#include "sim/reset_state.h"
#include "sim/session.h"
#include "tdsim/abi/tdx.h"
#include "tests/hlt_shutdown.h"

namespace tdsim::simtest {
namespace {

RunLimits small_limits() { return RunLimits{100'000, std::chrono::milliseconds(5'000)}; }

std::vector<uint8_t> data_page(const sim::Session& s) {
  std::vector<uint8_t> page(0x1000);
  EXPECT_TRUE(s.memory().read(kData, page.data(), page.size()));
  return page;
}
uint32_t u32(const std::vector<uint8_t>& p, size_t off) {
  uint32_t v;
  std::memcpy(&v, &p[off], 4);
  return v;
}
uint16_t u16(const std::vector<uint8_t>& p, size_t off) {
  uint16_t v;
  std::memcpy(&v, &p[off], 2);
  return v;
}

TEST(UnicornResetState, ProbeAtResetVectorSeesTdInitialState) {
  TdImage im = make_image(probe32(), {}, 2);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(small_limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 2u) << describe(ev.at(0));
  ASSERT_TRUE(test::hlt_shutdown(ev[0])) << describe(ev[0]);

  // vCPU 1 ran last and overwrote vCPU 0's probe output.
  const auto p = data_page(s);
  EXPECT_EQ(u32(p, 0x00), 0u) << "EAX";
  EXPECT_EQ(u32(p, 0x04), 48u) << "EBX = GPAW";
  EXPECT_EQ(u32(p, 0x08), static_cast<uint32_t>(im.init_rcx)) << "ECX = init RCX";
  EXPECT_EQ(u32(p, 0x0c), sim::td_cpuid1_eax()) << "EDX = CPUID(1).EAX";
  EXPECT_EQ(u32(p, 0x10), 1u) << "ESI = VCPU_INDEX";
  EXPECT_EQ(u32(p, 0x14), 0u) << "EDI";
  EXPECT_EQ(u32(p, 0x18), 0u) << "EBP";
  EXPECT_EQ(u32(p, 0x1c), 0u) << "ESP";
  // PE|NE; Unicorn forces ET (0x10) on: documented engine difference.
  EXPECT_EQ(u32(p, 0x20) & ~abi::kCr0Et, abi::kTdInitCr0) << "CR0";
  EXPECT_EQ(u32(p, 0x24), abi::kTdInitCr4) << "CR4";
  EXPECT_EQ(u32(p, 0x28), 0u) << "CR3";
  EXPECT_EQ(u32(p, 0x2c), abi::kTdInitRflags) << "EFLAGS";
  // A TD reads 0x901: SCE | LME | NXE, LMA clear (Unicorn 2.1 holds all three).
  EXPECT_EQ(u32(p, 0x30), abi::kTdInitEfer) << "EFER";
  EXPECT_EQ(u32(p, 0x34), 0u) << "EFER high";
  EXPECT_EQ(u32(p, 0x38), sim::td_cpuid1_eax()) << "CPUID(1).EAX agrees with RDX";
  for (size_t off = 0x40; off <= 0x4a; off += 2) EXPECT_EQ(u16(p, off), 0u) << "selector @" << off;
  EXPECT_EQ(u16(p, 0x50), abi::kTdInitGdtrLimit) << "GDTR limit";
  EXPECT_EQ(u32(p, 0x52), 0u) << "GDTR base";
  EXPECT_EQ(u16(p, 0x58), 0u) << "IDTR limit";
  EXPECT_EQ(u32(p, 0x5a), 0u) << "IDTR base";
  // FS and GS are flat: base 0, 4 GiB limit.
  EXPECT_EQ(u32(p, 0x60), 0x12345678u);
  EXPECT_EQ(u32(p, 0x64), 0x9abcdef0u);
}

TEST(UnicornResetState, RegistersNotVisibleTo32BitCodeAreSet) {
  TdImage im = make_image(probe32(), {}, 1);
  sim::Session s(im);
  uc_engine* uc = s.vcpu(0).engine();
  uint64_t r8 = 0, rip = 0, r9 = 1, r15 = 1;
  uc_reg_read(uc, UC_X86_REG_R8, &r8);
  uc_reg_read(uc, UC_X86_REG_R9, &r9);
  uc_reg_read(uc, UC_X86_REG_R15, &r15);
  uc_reg_read(uc, UC_X86_REG_RIP, &rip);
  EXPECT_EQ(r8, im.init_rcx) << "R8 = init RCX";
  EXPECT_EQ(r9, 0u);
  EXPECT_EQ(r15, 0u);
  EXPECT_EQ(rip, abi::kTdInitRip);
}

TEST(UnicornResetState, StubWithoutEferWriteReachesLongMode) {
  TdImage im = make_boot_image(long_mode_probe64(), 1);
  sim::Session s(im);
  std::vector<Event> ev;
  s.run(small_limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(test::hlt_shutdown(ev[0])) << describe(ev[0]);
  const auto p = data_page(s);
  EXPECT_EQ(read_u64(p, kCellOut + 0x00) & 0xffffffff, abi::kTdInitEfer | abi::kEferLma);
  EXPECT_EQ(read_u64(p, kCellOut + 0x08) & ~abi::kCr0Et, 0x80000021u);
  EXPECT_EQ(read_u64(p, kCellOut + 0x10), 0x60u);
  EXPECT_EQ(u16(p, kCellOut + 0x18), 0x08u);
  EXPECT_EQ(read_u64(p, kCellOut + 0x20), 0x123456789abcdef0ull);
  EXPECT_EQ(read_u64(p, kCellOut + 0x28), kStacks + 0xff8);
  EXPECT_EQ(read_u64(p, kCellOut + 0x30), 0u);
}

}  // namespace
}  // namespace tdsim::simtest
