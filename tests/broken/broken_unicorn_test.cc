// Each deliberately broken stub, guest or image fails on the Unicorn backend with the
// explanation a stub author needs: the rule id, the boot parameter to fix, and where.
#include <gtest/gtest.h>

#include "tdsim/abi/guest_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "broken_image.h"
#include "sim/sim_vm.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"
#include "tests/guests/test_assets.h"

namespace tdsim::broken {
namespace {

// Address of the first occurrence of `seq` in the stub.
uint64_t stub_find(const TdImage& im, std::vector<uint8_t> seq) {
  const Region* r = im.region_at(im.stub_gpa);
  const auto it = std::search(r->bytes.begin() + static_cast<long>(im.stub_gpa - r->gpa), r->bytes.end(),
                              seq.begin(), seq.end());
  EXPECT_NE(it, r->bytes.end());
  return r->gpa + static_cast<uint64_t>(it - r->bytes.begin());
}
const std::vector<uint8_t> kMovCr4Edi{0x0f, 0x22, 0xe7}, kMovCr0Edi{0x0f, 0x22, 0xc7};

bool has(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

TEST(BrokenUnicorn, MissingCr4PaeFaultsAtEnablePagingLabel) {
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, TDSIM_STUB_NO_PAE_BIN);
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->vector, 13) << dump(ev);
  EXPECT_EQ(f->error_code, 0u);
  EXPECT_EQ(f->rip, stub_label(im, TDSIM_STUB_NO_PAE_SYMBOLS, "td_boot_enable_paging")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr4-pae-missing] boot_params.cr4:")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "lacks PAE (0x20): paging with EFER.LME needs it")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "mov cr0, edi")) << dump(ev);
}

TEST(BrokenUnicorn, Cr4VmxeSetFaultsAtTheMovToCr4) {
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_param32(im, offsetof(abi::TdBootParams, cr4), im.boot.cr4 | abi::kCr4Vmxe);
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->vector, 13);
  EXPECT_EQ(f->rip, stub_find(im, kMovCr4Edi)) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr4-fixed-bits] boot_params.cr4: CR4.VMXE set: TDX fixes VMXE to 0"))
      << dump(ev);
  EXPECT_NE(f->detail.find("not verified"), std::string::npos) << f->detail;
}

TEST(BrokenUnicorn, Cr3AtGarbageFaultsRightAfterPagingOn) {
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_param32(im, offsetof(abi::TdBootParams, cr3), static_cast<uint32_t>(zero_page(im)));
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  // The first fetch after MOV CR0 (PG=1) walks an all-zero PML4: #PF, and the IDT cannot
  // be reached through those tables either, so the CPU shuts down.
  EXPECT_EQ(f->rip, stub_find(im, kMovCr0Edi) + 3) << dump(ev);
  EXPECT_EQ(f->vector, 14) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [cr3-not-page-tables] boot_params.cr3:")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "does not point at page tables")) << dump(ev);
}

TEST(BrokenUnicorn, GdtWithout64BitCodeSegmentIsNamed) {
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_gdt_entry(im, abi::kKernelCs, 0x00cf9b000000ffffull);  // 32-bit code: L=0, D=1
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [gdt-no-64bit-cs] gdt[1]: GDT has no 64-bit code segment at 0x08 (L=0)"))
      << dump(ev);
  EXPECT_TRUE(has(f->explanation, "IA-32e compatibility mode")) << dump(ev);
}

// The push faults (#PF, a write); delivering it pushes onto the same unmapped stack
// (#PF again: #DF), and so does #DF: a triple fault, as on KVM.
TEST(BrokenUnicorn, StackAbove4GiBIsAStackPageFaultThatTripleFaults) {
  const TdImage im = image(TDSIM_GUEST_HELLO_ELF, TDSIM_BROKEN_STACK_HIGH_BIN);
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_EQ(f->vector, 14) << "the chain's first exception " << dump(ev);
  EXPECT_EQ(f->error_code & 2, 2u) << "a write (push) " << dump(ev);
  EXPECT_NE(f->detail.find("#PF(0x2) -> #DF(0x0) -> shutdown (triple fault)"), std::string::npos) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [stack-unmapped] boot_params.per_vcpu[0].esp_gva: stack 0x1")) << dump(ev);
}

// The #PF on the fetch is delivered through the guest's IDT (as on hardware), whose
// runtime stub reports it: vector 14, the fetch bit, RIP 0x40000000.
TEST(BrokenUnicorn, GuestCodeUnmappedReachesTheGuestIdt) {
  TdImage im = image(TDSIM_GUEST_HELLO_ELF);
  set_guest_code(im, 0, 0x40000000);
  const auto ev = run_unicorn(im);
  ASSERT_EQ(ev.size(), 1u) << dump(ev);
  const auto* u = std::get_if<UcallEvent>(&ev[0]);
  ASSERT_NE(u, nullptr) << dump(ev);
  EXPECT_EQ(u->cmd, abi::kUcallUnhandled);
  EXPECT_EQ(u->args[abi::kUnhandledArgVector], 14u);
  EXPECT_EQ(u->args[abi::kUnhandledArgRip], 0x40000000u);
  EXPECT_EQ(u->args[abi::kUnhandledArgErrorCode] & 16, 16u) << "an instruction fetch";
}

TEST(BrokenUnicorn, NoIdtTurnsGpIntoTripleFault) {
  TdImage im = image(TDSIM_BROKEN_GP_ELF);
  set_idtr_limit(im, 0);
  const auto ev = run_unicorn(im);
  const FaultEvent* f = only_fault(ev);
  ASSERT_NE(f, nullptr) << dump(ev);
  EXPECT_EQ(f->vector, 13) << dump(ev);
  EXPECT_TRUE(f->triple_fault) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "movabs rax, qword ptr [0x8000000000000000]")) << dump(ev);
  EXPECT_TRUE(has(f->explanation, fmt::format("at RIP {:#x} <guest_main+", f->rip))) << dump(ev);
  EXPECT_TRUE(has(f->explanation, "cause [no-idt] boot_params.idtr: no IDT (limit 0): the #GP became a triple fault"))
      << dump(ev);
}

// Stepped through the host API, the vCPU stops right after the SYNC ucall; the #GP the
// guest raises after that stop is the same #GP a whole run reports (an uncleared
// exception record in the engine once made it a #DF: sim/exception_record.h).
TEST(BrokenUnicorn, SteppedTheGpAfterAStopIsStillAGp) {
  TdImage im = image(TDSIM_BROKEN_GP_ELF);
  set_idtr_limit(im, 0);
  sim::SimVm vm(im, VmOptions{});
  const Event sync = vm.vcpu(0).run();
  const auto* u = std::get_if<UcallEvent>(&sync);
  ASSERT_NE(u, nullptr) << describe(sync);
  EXPECT_EQ(u->cmd, abi::kUcallSync);
  const Event fault = vm.vcpu(0).run();
  const auto* f = std::get_if<FaultEvent>(&fault);
  ASSERT_NE(f, nullptr) << describe(fault);
  EXPECT_EQ(f->vector, 13) << describe(fault);
  EXPECT_TRUE(f->triple_fault) << describe(fault);
}

TEST(BrokenUnicorn, WithAnIdtTheGpReachesTheGuestHandler) {
  const auto ev = run_unicorn(image(TDSIM_BROKEN_GP_ELF));
  EXPECT_EQ(only_fault(ev), nullptr) << dump(ev);
  const auto* u = std::get_if<UcallEvent>(&ev.back());
  ASSERT_NE(u, nullptr) << dump(ev);
  EXPECT_EQ(u->cmd, abi::kUcallUnhandled) << dump(ev);
  EXPECT_EQ(u->args[abi::kUnhandledArgVector], 13u) << dump(ev);
}

TEST(BrokenUnicorn, EndlessLoopBudgetSaysWhereItLoops) {
  const TdImage im = image(TDSIM_GUEST_LOOP_FOREVER_ELF);
  const auto ev = run_unicorn(im, 300'000);
  ASSERT_FALSE(ev.empty());
  const auto* b = std::get_if<BudgetExceededEvent>(&ev.back());
  ASSERT_NE(b, nullptr) << dump(ev);
  EXPECT_TRUE(has(b->explanation, "vCPU 0 still running at RIP 0x")) << dump(ev);
  EXPECT_TRUE(has(b->explanation, "<guest_main")) << dump(ev);
  EXPECT_TRUE(has(b->explanation, "IA-32e 64-bit mode")) << dump(ev);
  EXPECT_TRUE(has(b->explanation, "next instruction 0x")) << dump(ev);
}

}  // namespace
}  // namespace tdsim::broken
