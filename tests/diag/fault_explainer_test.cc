#include "diag/fault_explainer.h"

#include <gtest/gtest.h>

#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "test_image.h"

namespace tdsim::diag {
namespace {

using namespace test;
constexpr uint64_t P = 1, RW = 2, PS = 0x80;

std::string dump(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// The stub after LGDT/LIDT, still in 32-bit protected mode with paging off.
CpuState in_stub(uint64_t rip, uint32_t cr4 = 0x40) {
  CpuState s;
  s.rip = rip;
  s.rsp = kStackBase + kStackSize - 8;
  s.cr0 = abi::kTdInitCr0;
  s.cr4 = cr4;
  s.efer = abi::kTdInitEfer;
  s.cs.limit = 0xffffffff;
  s.cs.attributes = abi::kTdInitCodeAr;
  s.gdtr = {kGdt, 0xfff};
  s.idtr = {kIdt, 0xfff};
  return s;
}

// Paging on, IA-32e, CS = KERNEL_CS (64-bit), as guest_code runs.
CpuState in_guest(uint64_t rip) {
  CpuState s = in_stub(rip, 0x40260);
  s.cr0 = 0x80000021;
  s.cr3 = kPml4;
  s.efer = abi::kTdInitEfer | abi::kEferLma;
  s.cs.selector = abi::kKernelCs;
  s.cs.attributes = 0xa09b;
  return s;
}

FaultEvent fault(int vector, uint64_t rip, uint64_t ec = 0, uint32_t vcpu = 0) {
  FaultEvent ev;
  ev.vcpu = vcpu;
  ev.vector = vector;
  ev.rip = rip;
  ev.error_code = ec;
  return ev;
}

void set_param32(TdImage& im, uint64_t off, uint32_t v) {
  poke32(im, abi::kTdBootParamsGpa + off, v);
  sync_boot_copy(im);
}

struct Explained {
  std::vector<FaultCause> causes;
  std::vector<std::string> report;
};

Explained explain(const TdImage& im, const FaultEvent& ev, const CpuState& s) {
  GuestMemory mem(im);
  return {fault_causes(ev, s, im, mem), explain_fault(ev, s, im, mem)};
}

// Exactly one cause, with this rule id and field, and `text` in its message.
void expect_cause(const Explained& e, const std::string& rule, const std::string& field,
                  const std::string& text) {
  ASSERT_EQ(e.causes.size(), 1u) << dump(e.report);
  EXPECT_EQ(e.causes[0].rule, rule) << dump(e.report);
  EXPECT_EQ(e.causes[0].field, field) << dump(e.report);
  EXPECT_NE(e.causes[0].message.find(text), std::string::npos) << dump(e.report);
}

bool report_has(const Explained& e, const std::string& text) {
  for (const auto& l : e.report)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

TEST(FaultExplainer, MissingPaeIsNamedAtTheMovToCr0) {
  TdImage im = make_valid_image();
  set_param32(im, 8, 0x40240);  // no PAE
  CpuState s = in_stub(kStubMovCr0, 0x40240);
  s.cr3 = kPml4;
  Explained e = explain(im, fault(13, kStubMovCr0), s);
  expect_cause(e, "cr4-pae-missing", "boot_params.cr4",
               "CR4 0x40240 lacks PAE (0x20): paging with EFER.LME needs it");
  EXPECT_EQ(e.report[0],
            "vCPU 0: #GP(0x0) at RIP 0xffffffe3 <td_boot_start+0x29> in 32-bit protected mode, paging off");
  EXPECT_EQ(e.report[1], "  instruction 0xffffffe3: 0f 22 c7                mov cr0, edi");
  EXPECT_TRUE(report_has(e, "being loaded from boot_params.cr0 by the MOV to CR0")) << dump(e.report);
  EXPECT_TRUE(report_has(e, "CR4  0x40240 = MCE OSFXSR OSXSAVE")) << dump(e.report);
  EXPECT_TRUE(report_has(e, "paging off: linear addresses are physical")) << dump(e.report);
}

TEST(FaultExplainer, LoadedValueComesFromTheSourceRegisterWhenKnown) {
  TdImage im = make_valid_image();
  CpuState s = in_stub(kStubMovCr0, 0x40240);
  s.cr3 = kPml4;
  s.gprs = std::array<uint64_t, 16>{};
  (*s.gprs)[kRdi] = 0x80000021;
  Explained e = explain(im, fault(13, kStubMovCr0), s);
  expect_cause(e, "cr4-pae-missing", "boot_params.cr4", "by the MOV to CR0");
  EXPECT_NE(e.causes[0].message.find("loaded from edi"), std::string::npos);
}

TEST(FaultExplainer, VmxeIsATdxFixedBit) {
  TdImage im = make_valid_image();
  set_param32(im, 8, 0x40260 | 0x2000);
  Explained e = explain(im, fault(13, kStubMovCr4), in_stub(kStubMovCr4));
  expect_cause(e, "cr4-fixed-bits", "boot_params.cr4", "CR4.VMXE set: TDX fixes VMXE to 0");
}

TEST(FaultExplainer, Cr0WithoutNe) {
  TdImage im = make_valid_image();
  set_param32(im, 0, 0x80000001);
  CpuState s = in_stub(kStubMovCr0, 0x40260);
  s.cr3 = kPml4;
  Explained e = explain(im, fault(13, kStubMovCr0), s);
  expect_cause(e, "cr0-fixed-bits", "boot_params.cr0", "CR0 0x80000001 clears NE: TDX fixes PE and NE to 1");
}

TEST(FaultExplainer, Cr3ThatIsNotPageTablesFailsAtPml4) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(kStubLjmp);
  s.cs = in_stub(0).cs;  // still the 32-bit reset CS: compatibility mode
  s.cr3 = kGdt;          // entry 0 of the GDT is the null descriptor
  s.cr2 = kStubLjmp;
  Explained e = explain(im, fault(14, kStubLjmp, 0x10), s);
  expect_cause(e, "cr3-not-page-tables", "boot_params.cr3",
               "CR3 0x8000 does not point at page tables (page walk of RIP 0xffffffe6 fails at "
               "PML4: not present at PML4E); GPA 0x8000 is in region 'gdt-idt'");
  EXPECT_TRUE(report_has(e, "in IA-32e compatibility mode")) << dump(e.report);
  EXPECT_TRUE(report_has(e, "instruction at 0xffffffe6: unreadable")) << dump(e.report);
  EXPECT_TRUE(report_has(e, "PML4E[0] @ GPA 0x8000 = 0x0000000000000000  not present")) << dump(e.report);
}

TEST(FaultExplainer, GdtWithout64BitCodeAt0x08) {
  TdImage im = make_valid_image();
  poke64(im, kGdt + 8, kGdtCode32);
  CpuState s = in_guest(kStubLong64);
  s.cs.attributes = abi::kTdInitCodeAr;  // the far jump loaded a 32-bit CS
  Explained e = explain(im, fault(6, kStubLong64), s);
  expect_cause(e, "gdt-no-64bit-cs", "gdt[1]", "GDT has no 64-bit code segment at 0x08 (L=0)");
  EXPECT_TRUE(report_has(e, "GDT[0x8] 0x00cf9b000000ffff: 32-bit code")) << dump(e.report);
}

TEST(FaultExplainer, GdtLimitTooSmallAtTheFarJump) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(kStubLjmp);
  s.cs = in_stub(0).cs;
  s.gdtr.limit = 7;
  Explained e = explain(im, fault(13, kStubLjmp, 0x8), s);
  expect_cause(e, "gdt-limit", "boot_params.gdtr", "GDT limit 0x7 does not cover selector 0x08");
  EXPECT_TRUE(report_has(e, "error code 0x8 = GDT selector 0x8")) << dump(e.report);
}

TEST(FaultExplainer, UnmappedStackNamesTheVcpuEntry) {
  TdImage im = make_valid_image();
  set_param32(im, 24 + 16, 0x7ff8);
  CpuState s = in_guest(kGuestCode);
  s.rsp = 0x7ff8;
  s.cr2 = 0x7ff0;
  Explained e = explain(im, fault(14, kGuestCode, 0x2, 1), s);
  expect_cause(e, "stack-unmapped", "boot_params.per_vcpu[1].esp_gva",
               "stack 0x7ff8 not mapped writable (esp_gva 0x7ff8): not present at PTE");
  EXPECT_TRUE(report_has(e, "error code 0x2 = not-present write, supervisor, data")) << dump(e.report);
  EXPECT_TRUE(report_has(e, "PTE[7] @ GPA 0x5038 = 0x0000000000000000  not present")) << dump(e.report);
}

TEST(FaultExplainer, StackAbove4GiBOutsideLongMode) {
  TdImage im = make_valid_image();
  CpuState s = in_stub(kStubGpa);
  s.rsp = abi::kFourGiB + 0x1000;
  Explained e = explain(im, fault(12, kStubGpa), s);
  expect_cause(e, "stack-above-4g", "boot_params.per_vcpu[0].esp_gva", "above 4 GiB");
}

TEST(FaultExplainer, UnmappedGuestCode) {
  TdImage im = make_valid_image();
  poke64(im, abi::kTdBootParamsGpa + 24 + 8, 0x7000000);
  CpuState s = in_guest(0x7000000);
  s.cr2 = 0x7000000;
  Explained e = explain(im, fault(14, 0x7000000, 0x10), s);
  expect_cause(e, "guest-code-unmapped", "boot_params.per_vcpu[0].guest_code",
               "guest_code 0x7000000 is not mapped executable: not present at PDE");
}

TEST(FaultExplainer, NoIdtTurnsTheGpIntoATripleFault) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(kGuestCode);
  s.idtr = {0, 0};
  FaultEvent ev = fault(13, kGuestCode);
  ev.triple_fault = true;
  Explained e = explain(im, ev, s);
  expect_cause(e, "no-idt", "boot_params.idtr", "no IDT (limit 0): the #GP became a triple fault");
  EXPECT_TRUE(report_has(e, "triple fault (last exception #GP) at RIP 0x400000 <guest_main>"))
      << dump(e.report);
}

TEST(FaultExplainer, ExceptionBeforeTheStubLoadsTheIdtIsNamedAsSuch) {
  // The parameters hold a good IDT, the stub had not loaded it yet (the built-in stub
  // does so in IA-32e mode): the triple fault is explained, and the parameters not blamed.
  TdImage im = make_valid_image();
  CpuState s = in_guest(im.stub_gpa + 4);
  s.idtr = {0, 0};
  FaultEvent ev = fault(13, im.stub_gpa + 4);
  ev.triple_fault = true;
  Explained e = explain(im, ev, s);
  expect_cause(e, "idt-not-loaded", "stub", "the stub had not loaded the IDT yet (boot_params.idtr limit");
}

TEST(FaultExplainer, UnmappedIdtAlsoTripleFaults) {
  TdImage im = make_valid_image();
  poke64(im, kPtLow + (kIdt >> 12) * 8, 0);
  FaultEvent ev = fault(-1, kGuestCode);
  ev.triple_fault = true;
  Explained e = explain(im, ev, in_guest(kGuestCode));
  expect_cause(e, "idt-unmapped", "boot_params.idtr", "IDT at 0x9000 is not mapped");
}

TEST(FaultExplainer, ReturningGuestCodeLandsAtZero) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(0);
  s.rsp = kStackBase + kStackSize - 8 + 8;  // esp_gva + 8: the RET popped the missing return address
  Explained e = explain(im, fault(14, 0, 0x10), s);
  expect_cause(e, "guest-code-returned", "guest_code", "must end with a ucall");
}

TEST(FaultExplainer, NullJumpIsNotAReturn) {
  // RIP 0 with RSP still esp_gva: nothing was popped, so nothing returned.
  TdImage im = make_valid_image();
  CpuState s = in_guest(0);
  s.rsp = kStackBase + kStackSize - 8;
  Explained e = explain(im, fault(14, 0, 0x10), s);
  expect_cause(e, "rip-null", "code", "a jump or call through a null pointer (RSP 0x203ff8 is not esp_gva + 8");
}

TEST(FaultExplainer, Int3AfterTheResetVector) {
  TdImage im = make_valid_image();
  const uint8_t bad[] = {0x90, 0x90, 0xcc};
  poke(im, abi::kResetVector, bad, 3);
  Explained e = explain(im, fault(3, abi::kResetVector + 3), in_stub(abi::kResetVector + 3));
  expect_cause(e, "reset-vector-fallthrough", "reset_vector", "(90 90 cc) did not jump to the stub");
}

TEST(FaultExplainer, EferLmeClearGivesPaeNotIa32e) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(kStubLjmp);
  s.efer = 0x801;
  s.cs = in_stub(0).cs;
  Explained e = explain(im, fault(6, kStubLjmp), s);
  expect_cause(e, "efer-lme-clear", "efer", "cannot write EFER");
  EXPECT_TRUE(report_has(e, "PAE paging (not IA-32e)")) << dump(e.report);
}

TEST(FaultExplainer, StubNotIdentityMapped) {
  TdImage im = make_valid_image();
  poke64(im, kPtHigh + 0x1ff * 8, 0xffff0000 | P | RW);
  CpuState s = in_guest(kStubLjmp);
  s.cs = in_stub(0).cs;
  Explained e = explain(im, fault(6, kStubLjmp), s);
  expect_cause(e, "stub-not-identity", "stub", "GVA 0xffffffe6 -> GPA 0xffff0fe6");
}

TEST(FaultExplainer, FetchFromSharedMemory) {
  TdImage im = make_valid_image();
  poke64(im, kPdLow + 3 * 8, kPool | kSharedBit | P | RW | PS);  // executable, shared
  Explained e = explain(im, fault(14, kPool, 0x11), in_guest(kPool));
  expect_cause(e, "fetch-from-shared", "page_tables", "shared memory");
}

TEST(FaultExplainer, DataAccessToAnUnmappedPage) {
  TdImage im = make_valid_image();
  CpuState s = in_guest(kGuestCode);
  s.cr2 = 0x7008;
  Explained e = explain(im, fault(14, kGuestCode, 0x0), s);
  expect_cause(e, "data-unmapped", "page_tables",
               "read of GVA 0x7008 (CR2) outside every region: not present at PTE");
}

TEST(FaultExplainer, HealthyStateMatchesNoRule) {
  TdImage im = make_valid_image();
  Explained e = explain(im, fault(6, kGuestCode), in_guest(kGuestCode));
  EXPECT_TRUE(e.causes.empty()) << dump(e.report);
  EXPECT_TRUE(report_has(e, "no rule matched")) << dump(e.report);
  EXPECT_EQ(e.report[0], "vCPU 0: #UD at RIP 0x400000 <guest_main> in IA-32e 64-bit mode");
  EXPECT_EQ(e.report[1], "  instruction 0x400000: f4                      hlt");
  EXPECT_TRUE(report_has(e, "GDT[0x8] 0x00af9b000000ffff: 64-bit code, DPL0, P=1 (L=1 D=0)"))
      << dump(e.report);
}

}  // namespace
}  // namespace tdsim::diag
