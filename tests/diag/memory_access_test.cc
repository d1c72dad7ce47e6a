// The data memory one instruction touches (diag/memory_access.h), as plain KVM's debug
// target decides its watchpoints: explicit operands with their read/write kind,
// RIP-relative and FS-based addresses, the stack slot of PUSH/POP/CALL/RET, and nothing
// for LEA.
#include "diag/memory_access.h"

#include <gtest/gtest.h>

#include <vector>

namespace tdsim::diag {
namespace {

std::vector<MemoryAccess> decode(std::vector<uint8_t> bytes, CpuMode mode, AccessRegs regs) {
  return memory_accesses(bytes, mode, regs);
}

TEST(MemoryAccess, StoreAndLoadThroughARegister) {
  AccessRegs r;
  r.gpr[3] = 0x5000;  // rbx
  auto a = decode({0x48, 0x89, 0x03}, CpuMode::k64, r);  // mov [rbx], rax
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x5000u);
  EXPECT_EQ(a[0].len, 8u);
  EXPECT_TRUE(a[0].write);
  EXPECT_FALSE(a[0].read);
  a = decode({0x8b, 0x43, 0x08}, CpuMode::k64, r);  // mov eax, [rbx+8]
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x5008u);
  EXPECT_EQ(a[0].len, 4u);
  EXPECT_TRUE(a[0].read);
  EXPECT_FALSE(a[0].write);
}

TEST(MemoryAccess, ReadModifyWriteIsBoth) {
  AccessRegs r;
  r.gpr[7] = 0x9000;  // rdi
  const auto a = decode({0x48, 0xff, 0x07}, CpuMode::k64, r);  // inc qword [rdi]
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].read);
  EXPECT_TRUE(a[0].write);
}

TEST(MemoryAccess, RipRelativeCountsFromTheNextInstruction) {
  AccessRegs r;
  r.rip = 0x401000;
  const auto a = decode({0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, CpuMode::k64, r);  // mov rax, [rip+0x10]
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x401000u + 7 + 0x10);
}

TEST(MemoryAccess, FsSegmentAddsItsBase) {
  AccessRegs r;
  r.fs_base = 0x7000;
  const auto a = decode({0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00}, CpuMode::k64, r);  // mov rax, fs:[0x28]
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x7028u);
}

TEST(MemoryAccess, StackSlotsOfPushPopCallRet) {
  AccessRegs r;
  r.gpr[4] = 0x8000;  // rsp
  auto a = decode({0x50}, CpuMode::k64, r);  // push rax
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x7ff8u);
  EXPECT_TRUE(a[0].write);
  a = decode({0xe8, 0, 0, 0, 0}, CpuMode::k64, r);  // call
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x7ff8u);
  a = decode({0x58}, CpuMode::k64, r);  // pop rax
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x8000u);
  EXPECT_TRUE(a[0].read);
  a = decode({0xc3}, CpuMode::k64, r);  // ret
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x8000u);
  a = decode({0x50}, CpuMode::k32, r);  // push eax: a 4-byte slot
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].la, 0x7ffcu);
  EXPECT_EQ(a[0].len, 4u);
}

TEST(MemoryAccess, LeaAndRegisterOnlyTouchNothing) {
  AccessRegs r;
  r.gpr[3] = 0x5000;
  EXPECT_TRUE(decode({0x48, 0x8d, 0x43, 0x08}, CpuMode::k64, r).empty());  // lea rax, [rbx+8]
  EXPECT_TRUE(decode({0x48, 0x89, 0xd8}, CpuMode::k64, r).empty());        // mov rax, rbx
  EXPECT_TRUE(decode({0x0f, 0x0b}, CpuMode::k64, r).empty());              // ud2
  EXPECT_TRUE(decode({}, CpuMode::k64, r).empty());
}

}  // namespace
}  // namespace tdsim::diag
