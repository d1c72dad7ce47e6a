// The same broken images on plain KVM, where the behaviour is comparable: hardware
// checks, a shutdown (triple fault) or a fault exit with a state report read with
// KVM_GET_SREGS/KVM_GET_REGS. Skips with the reason where KVM is missing.
#include <gtest/gtest.h>

#include <algorithm>

#include "broken_image.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "tests/guests/test_assets.h"

namespace tdsim::broken {
namespace {

#define REQUIRE_KVM()                                                                       \
  do {                                                                                      \
    if (!kvm_unusable_reason().empty()) GTEST_SKIP() << "plain KVM unusable: " << kvm_unusable_reason(); \
  } while (0)


bool has(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

TEST(BrokenKvm, MissingCr4PaeIsRefusedByHardwareToo) {
  REQUIRE_KVM();
  // The #GP comes before the stub loads the IDT (it does so in IA-32e mode): a triple
  // fault at the MOV to CR0, as on Unicorn (broken_stub_diff_test.cc compares the two).
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, TDSIM_STUB_NO_PAE_BIN);
  const auto ev = run_kvm(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_EQ(f->rip, stub_label(im, TDSIM_STUB_NO_PAE_SYMBOLS, "td_boot_enable_paging")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr4-pae-missing] boot_params.cr4:")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [idt-not-loaded] stub: the stub had not loaded the IDT yet")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "paging off")) << dump(ev);
}

TEST(BrokenKvm, Cr4VmxeSetIsRefusedByHardwareToo) {
  REQUIRE_KVM();
  // Plain KVM refuses VMXE for a guest without VMX (#GP), like the TDX module's fixed
  // bit: a triple fault at the MOV to CR4, CR4 never written.
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_param32(im, offsetof(abi::TdBootParams, cr4), im.boot.cr4 | abi::kCr4Vmxe);
  const auto ev = run_kvm(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "mov cr4, edi")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr4-fixed-bits] boot_params.cr4: CR4.VMXE set")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "CR4  0x40 = MCE")) << "CR4.VMXE must not have been set\n" << dump(ev);
}

TEST(BrokenKvm, Cr3AtGarbageTripleFaultsWithTheSameCause) {
  REQUIRE_KVM();
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_param32(im, offsetof(abi::TdBootParams, cr3), static_cast<uint32_t>(zero_page(im)));
  const auto ev = run_kvm(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr3-not-page-tables] boot_params.cr3:")) << dump(ev);
}

TEST(BrokenKvm, GdtWithout64BitCodeSegmentIsNamed) {
  REQUIRE_KVM();
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_gdt_entry(im, abi::kKernelCs, 0x00cf9b000000ffffull);
  const auto ev = run_kvm(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [gdt-no-64bit-cs] gdt[1]: GDT has no 64-bit code segment at 0x08 (L=0)"))
      << dump(ev);
}

TEST(BrokenKvm, StackAbove4GiBTripleFaultsOnTheStack) {
  REQUIRE_KVM();
  const auto ev = run_kvm(image(TDSIM_GUEST_HELLO_ELF, TDSIM_BROKEN_STACK_HIGH_BIN));
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [stack-unmapped] boot_params.per_vcpu[0].esp_gva: stack 0x1")) << dump(ev);
}

TEST(BrokenKvm, GuestCodeUnmappedReachesTheGuestIdt) {
  REQUIRE_KVM();
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_guest_code(im, 0, 0x40000000);
  // KVM delivers the #PF to the runtime's IDT stubs, which report it: no fault event,
  // the comparable facts are the vector and the RIP.
  const auto ev = run_kvm(im);
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  const auto* u = std::get_if<UcallEvent>(&ev[0]);
  ASSERT_NE(u, nullptr) << dump(ev);
  EXPECT_EQ(u->cmd, abi::kUcallUnhandled);
  EXPECT_EQ(u->args[0], 14u);
  EXPECT_EQ(u->args[2], 0x40000000u);
}

TEST(BrokenKvm, NoIdtTurnsGpIntoTripleFault) {
  REQUIRE_KVM();
  TdImage im = image(TDSIM_BROKEN_GP_ELF);
  set_idtr_limit(im, 0);
  const auto ev = run_kvm(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [no-idt] boot_params.idtr: no IDT (limit 0)")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "<guest_main+")) << dump(ev);
}

TEST(BrokenKvm, EndlessLoop) {
  GTEST_SKIP() << "not comparable: the kvm backend cannot count instructions, and its wall-clock "
                  "budget event carries no vCPU positions (the vCPU threads have left KVM_RUN)";
}

}  // namespace
}  // namespace tdsim::broken
