#include "diag/x86_decode.h"

#include <gtest/gtest.h>

#include "diag/cpu_state.h"
#include "test_image.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::diag {
namespace {

TEST(X86Decode, ControlRegistersByName) {
  EXPECT_EQ(decode_cr0(0x80000021), "0x80000021 = PE NE PG");
  EXPECT_EQ(decode_cr4(0x40260), "0x40260 = PAE MCE OSFXSR OSXSAVE");
  EXPECT_EQ(decode_cr4(0x2040), "0x2040 = MCE VMXE");
  EXPECT_EQ(decode_efer(0x901), "0x901 = SCE LME NXE");
  EXPECT_EQ(decode_efer(0), "0x0 = none");
  EXPECT_EQ(decode_cr0(0x21 | (1ull << 40)), "0x10000000021 = PE NE (+0x10000000000)");
}

TEST(X86Decode, VectorsAndErrorCodes) {
  EXPECT_EQ(vector_name(13), "#GP");
  EXPECT_EQ(vector_name(14), "#PF");
  EXPECT_EQ(vector_name(20), "#VE");
  EXPECT_EQ(vector_name(42), "vector 42");
  EXPECT_TRUE(has_error_code(14));
  EXPECT_FALSE(has_error_code(6));
  EXPECT_EQ(decode_pf_error(0x2), "0x2 = not-present write, supervisor, data");
  EXPECT_EQ(decode_pf_error(0x19),
            "0x19 = protection violation on read, supervisor, instruction fetch, reserved bit set "
            "in a paging entry");
  EXPECT_EQ(decode_selector_error(0x8), "0x8 = GDT selector 0x8");
  EXPECT_EQ(decode_selector_error(0x6a), "0x6a = IDT vector 0xd");
  EXPECT_EQ(decode_selector_error(0), "0 (no selector involved)");
}

TEST(X86Decode, GdtDescriptors) {
  Descriptor d = decode_descriptor(test::kGdtCode64);
  EXPECT_TRUE(d.is_64bit_code());
  EXPECT_EQ(d.attributes, 0xa09b);
  EXPECT_EQ(d.limit, 0xffffffffu);
  EXPECT_EQ(describe_descriptor(d),
            "0x00af9b000000ffff: 64-bit code, DPL0, P=1 (L=1 D=0), base 0x0, limit 0xffffffff");
  Descriptor d32 = decode_descriptor(test::kGdtCode32);
  EXPECT_FALSE(d32.is_64bit_code());
  EXPECT_EQ(d32.attributes, abi::kTdInitCodeAr);  // same AR layout as the TDX reset CS
  EXPECT_FALSE(decode_descriptor(test::kGdtData).code());
  EXPECT_EQ(decode_descriptor(0x12cf9a345678ffffull).base, 0x12345678u);
}

TEST(X86Decode, ModeFromRegisters) {
  CpuState s;
  s.cr0 = abi::kTdInitCr0;
  s.efer = abi::kTdInitEfer;
  s.cs.attributes = abi::kTdInitCodeAr;
  EXPECT_EQ(derive_mode(s), ExecMode::kProtected);
  s.cr0 |= abi::kCr0Pg;
  s.cr4 = abi::kCr4Pae;
  s.efer |= abi::kEferLma;
  EXPECT_EQ(derive_mode(s), ExecMode::kCompat);
  s.cs.attributes = 0xa09b;
  EXPECT_EQ(derive_mode(s), ExecMode::kLong64);
  s.efer = 0;
  EXPECT_EQ(derive_mode(s), ExecMode::kPae);
  s.cr4 = 0;
  EXPECT_EQ(derive_mode(s), ExecMode::kProtectedPaging);
  s.mode = ExecMode::kLong64;  // what the engine says wins
  EXPECT_EQ(effective_mode(s), ExecMode::kLong64);
}

}  // namespace
}  // namespace tdsim::diag
