#include "diag/lint.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tdsim/abi/td_boot.h"
#include "test_image.h"

namespace tdsim::diag {
namespace {

using namespace test;
constexpr uint64_t P = 1, RW = 2, PS = 0x80;
constexpr uint64_t kCr4Off = abi::kTdBootParamsGpa + 8;

std::string dump(const std::vector<LintFinding>& fs) {
  std::string s;
  for (const auto& f : fs) s += format_finding(f) + "\n";
  return s;
}

// Exactly one error, on `field`, whose message contains `text`.
void expect_single_error(const TdImage& im, const std::string& field, const std::string& text) {
  std::vector<LintFinding> fs = lint_image(im);
  std::vector<LintFinding> errors;
  for (const auto& f : fs)
    if (f.severity == Severity::kError) errors.push_back(f);
  ASSERT_EQ(errors.size(), 1u) << dump(fs);
  EXPECT_EQ(errors[0].field, field) << dump(fs);
  EXPECT_NE(errors[0].message.find(text), std::string::npos) << dump(fs);
}

bool has(const std::vector<LintFinding>& fs, Severity s, const std::string& field,
         const std::string& text) {
  for (const auto& f : fs)
    if (f.severity == s && f.field == field && f.message.find(text) != std::string::npos) return true;
  return false;
}

void set_params(TdImage& im, uint64_t offset, const void* v, size_t n) {
  poke(im, abi::kTdBootParamsGpa + offset, v, n);
  sync_boot_copy(im);
}
void set_cr4(TdImage& im, uint32_t cr4) { set_params(im, 8, &cr4, 4); }
void set_cr0(TdImage& im, uint32_t cr0) { set_params(im, 0, &cr0, 4); }

TEST(Lint, ValidImageHasNoFindings) {
  std::vector<LintFinding> fs = lint_image(make_valid_image());
  EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(Lint, Cr4FixedBits) {
  TdImage im = make_valid_image();
  set_cr4(im, 0x40260 | (1u << 13));
  expect_single_error(im, "boot_params.cr4", "CR4.VMXE set: TDX fixes VMXE to 0");
  set_cr4(im, 0x40260 | (1u << 14));
  expect_single_error(im, "boot_params.cr4", "SMXE");
  set_cr4(im, 0x40260 & ~0x40u);
  expect_single_error(im, "boot_params.cr4", "CR4.MCE clear");
  set_cr4(im, 0x40260 & ~0x20u);
  expect_single_error(im, "boot_params.cr4", "lacks PAE");
  set_cr4(im, 0x40260 | 0x1000);
  expect_single_error(im, "boot_params.cr4", "LA57");
}

TEST(Lint, Cr0FixedBits) {
  TdImage im = make_valid_image();
  set_cr0(im, 0x80000001);
  expect_single_error(im, "boot_params.cr0", "clears NE: TDX fixes PE and NE to 1");
  set_cr0(im, 0x21);
  expect_single_error(im, "boot_params.cr0", "lacks PG");
}

TEST(Lint, Cr3MustPointAtPageTables) {
  TdImage im = make_valid_image();
  uint32_t cr3 = kGdt;
  set_params(im, 4, &cr3, 4);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params.cr3", "region 'gdt-idt'")) << dump(fs);
}

TEST(Lint, ImageMutatedAfterBuildIsCheckedFromItsBytes) {
  TdImage im = make_valid_image();
  uint32_t cr4 = 0x40260 | (1u << 13);
  poke(im, kCr4Off, &cr4, 4);  // im.boot still says 0x40260
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params.cr4", "VMXE")) << dump(fs);
  EXPECT_TRUE(has(fs, Severity::kWarning, "boot_params", "differs from TdImage.boot")) << dump(fs);
}

TEST(Lint, GdtNeeds64BitCodeAt0x08) {
  TdImage im = make_valid_image();
  poke64(im, kGdt + 8, kGdtCode32);
  expect_single_error(im, "gdt[1]", "GDT has no 64-bit code segment at 0x08 (needs L=1 D=0)");
  poke64(im, kGdt + 8, kGdtData);
  expect_single_error(im, "gdt[1]", "not code");
  poke64(im, kGdt + 8, 0);
  expect_single_error(im, "gdt[1]", "not present");
}

TEST(Lint, GdtLimitMustCoverKernelCs) {
  TdImage im = make_valid_image();
  uint16_t limit = 7;
  set_params(im, 12, &limit, 2);
  expect_single_error(im, "boot_params.gdtr", "does not cover selector 0x08");
}

TEST(Lint, NoIdtIsAWarning) {
  TdImage im = make_valid_image();
  uint16_t limit = 0;
  set_params(im, 18, &limit, 2);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_EQ(count_errors(fs), 0u) << dump(fs);
  EXPECT_TRUE(has(fs, Severity::kWarning, "boot_params.idtr", "triple fault")) << dump(fs);
}

TEST(Lint, DescriptorTablesMustBeMapped) {
  TdImage im = make_valid_image();
  poke64(im, kPtLow + (kIdt >> 12) * 8, 0);
  expect_single_error(im, "boot_params.idtr", "table base 0x9000 is not mapped for read: not present at PTE");
}

TEST(Lint, PerVcpuArrayMustFitTheParamsPage) {
  TdImage im = make_valid_image();
  im.nr_vcpus = 300;  // 24 + 16*300 > 4096
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params.per_vcpu", "300 entries need 0x12d8 bytes"))
      << dump(fs);
}

TEST(Lint, StackTopMustBeMappedWritable) {
  TdImage im = make_valid_image();
  uint32_t esp = 0x7ff8;  // page 0x7000 is a hole in the low page table
  poke(im, abi::kTdBootParamsGpa + 24 + 16 + 0, &esp, 4);
  expect_single_error(im, "boot_params.per_vcpu[1].esp_gva", "stack 0x7ff0 is not mapped for write");
}

TEST(Lint, StackAlignmentIsAWarning) {
  TdImage im = make_valid_image();
  uint32_t esp = kStackBase + 0x1000;  // (esp + 8) % 16 == 8
  poke(im, abi::kTdBootParamsGpa + 24, &esp, 4);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_EQ(count_errors(fs), 0u) << dump(fs);
  EXPECT_TRUE(has(fs, Severity::kWarning, "boot_params.per_vcpu[0].esp_gva", "(RSP+8) % 16")) << dump(fs);
}

TEST(Lint, GuestCodeMustBeMappedExecutable) {
  TdImage im = make_valid_image();
  uint64_t entry = kStackBase + 0x100;  // mapped, but XD
  poke(im, abi::kTdBootParamsGpa + 24 + 8, &entry, 8);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params.per_vcpu[0].guest_code",
                  "instruction fetch from a no-execute page")) << dump(fs);
  entry = 0x7000000;
  poke(im, abi::kTdBootParamsGpa + 24 + 8, &entry, 8);
  fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params.per_vcpu[0].guest_code", "not present at PDE"))
      << dump(fs);
}

TEST(Lint, StubMustBeIdentityMapped) {
  TdImage im = make_valid_image();
  poke64(im, kPtHigh + 0x1ff * 8, 0xffffe000 | P | RW);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "stub", "not identity mapped")) << dump(fs);
}

TEST(Lint, ParamsPageMustBeIdentityMapped) {
  TdImage im = make_valid_image();
  poke64(im, kPtHigh + 0x1f0 * 8, 0);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "boot_params", "params page 0xffff0000 is not mapped")) << dump(fs);
}

TEST(Lint, ResetVectorMustJumpToTheStub) {
  TdImage im = make_valid_image();
  const uint8_t off_by_one[] = {0xeb, 0xc9};
  poke(im, abi::kResetVector, off_by_one, 2);
  expect_single_error(im, "reset_vector", "lands on 0xffffffbb, not the stub at 0xffffffba (rel8 should be 0xc8)");
  const uint8_t nop[] = {0x90};
  poke(im, abi::kResetVector, nop, 1);
  expect_single_error(im, "reset_vector", "not EB");
}

TEST(Lint, ResetVectorInt3IsAWarning) {
  TdImage im = make_valid_image();
  const uint8_t zero = 0;
  poke(im, abi::kResetVector + 2, &zero, 1);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_EQ(count_errors(fs), 0u) << dump(fs);
  EXPECT_TRUE(has(fs, Severity::kWarning, "reset_vector", "not CC")) << dump(fs);
}

TEST(Lint, StubSizeBoundAndEnd) {
  TdImage im = make_valid_image();
  im.stub_size = 127;  // 127 + 2 > 128
  im.stub_gpa = abi::kResetVector - 127;
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "stub", "stub_size + 2 <= 128")) << dump(fs);
  im = make_valid_image();
  im.stub_gpa += 1;
  fs = lint_image(im);
  EXPECT_TRUE(has(fs, Severity::kError, "stub", "does not end at the reset vector")) << dump(fs);
}

TEST(Lint, FarJumpTargetMustBeMapped) {
  TdImage im = make_valid_image();
  const uint8_t target[] = {0x00, 0x70, 0x00, 0x00};  // ljmp 8:0x7000 (a hole)
  poke(im, kStubGpa + 0x2d, target, 4);
  expect_single_error(im, "stub", "far jump target 0x7000 is not mapped");
}

TEST(Lint, IndirectFarJumpInTheStubIsNotMisread) {
  TdImage im = make_valid_image();
  const uint8_t ljmp_fs_eax[] = {0x64, 0xff, 0x28, 0x90, 0x90, 0x90, 0x90};  // ljmp fs:[eax]; nops
  poke(im, kStubLjmp, ljmp_fs_eax, sizeof ljmp_fs_eax);
  std::vector<LintFinding> fs = lint_image(im);
  EXPECT_TRUE(fs.empty()) << dump(fs);
}

TEST(Lint, UcallPoolLeafNeedsTheSharedBit) {
  TdImage im = make_valid_image();
  poke64(im, kPdLow + 3 * 8, kPool | P | RW | PS);
  expect_single_error(im, "ucall_pool", "lacks the shared bit");
}

}  // namespace
}  // namespace tdsim::diag
