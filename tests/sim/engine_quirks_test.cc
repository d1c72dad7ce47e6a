// Pins the Unicorn 2.1 behaviours the simulator works around (docs/engine-quirks.md):
// each test asserts the quirk itself, so an engine that fixes one fails here and the
// workaround can go.
#include <gtest/gtest.h>
#include <unicorn/unicorn.h>

#include <memory>
#include <vector>

#include "sim/exception_record.h"
#include "sim_test_util.h"

namespace tdsim::simtest {
namespace {

struct Engine {
  uc_engine* uc = nullptr;
  explicit Engine(uc_mode mode) { EXPECT_EQ(uc_open(UC_ARCH_X86, mode, &uc), UC_ERR_OK); }
  ~Engine() {
    if (uc) uc_close(uc);
  }
};

// sim/engine.cc write_cr2 puts CR3 back after writing CR2.
TEST(UnicornQuirk, WritingCr2AlsoWritesCr3) {
  Engine e(UC_MODE_64);
  uint64_t cr3 = 0x1000, cr2 = 0xb080, got = 0;
  ASSERT_EQ(uc_reg_write(e.uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
  ASSERT_EQ(uc_reg_write(e.uc, UC_X86_REG_CR2, &cr2), UC_ERR_OK);
  ASSERT_EQ(uc_reg_read(e.uc, UC_X86_REG_CR3, &got), UC_ERR_OK);
  EXPECT_EQ(got, cr2) << "Unicorn no longer clobbers CR3 on a CR2 write: sim::write_cr2 can be a plain write";
}

// sim/reset_state.cc: the TD's 32-bit reset state is transplanted into a 64-bit engine
// because a 32-bit engine offers no 64-bit register view.
TEST(UnicornQuirk, A32BitEngineHasNo64BitRegisters) {
  Engine e(UC_MODE_32);
  uint64_t v = 1;
  EXPECT_NE(uc_reg_read(e.uc, UC_X86_REG_R8, &v), UC_ERR_OK);
  EXPECT_NE(uc_reg_read(e.uc, UC_X86_REG_RIP, &v), UC_ERR_OK);
}

// core/shared_bit_fold.h: the engine's physical address width is below the TD's GPAW,
// so a PTE carrying the shared bit would be a reserved-bit fault.
TEST(UnicornQuirk, PhysicalAddressWidthIsBelow48) {
  Engine e(UC_MODE_64);
  ASSERT_EQ(uc_mem_map(e.uc, 0, 0x1000, UC_PROT_ALL), UC_ERR_OK);
  const uint8_t code[] = {0xb8, 0x08, 0x00, 0x00, 0x80, 0x0f, 0xa2};  // mov eax, 0x80000008; cpuid
  ASSERT_EQ(uc_mem_write(e.uc, 0, code, sizeof code), UC_ERR_OK);
  ASSERT_EQ(uc_emu_start(e.uc, 0, sizeof code, 0, 0), UC_ERR_OK);
  uint64_t eax = 0;
  ASSERT_EQ(uc_reg_read(e.uc, UC_X86_REG_RAX, &eax), UC_ERR_OK);
  EXPECT_LT(eax & 0xff, 48u) << "the engine now has a 48-bit physical address space: the fold may go";
}

// Two vCPUs in slices of 1,000 instructions: uc_emu_start is entered again and again
// into cached blocks holding TDCALLs, and every hit reaches the invalid-instruction hook.
// (It did not while QEMU's exception record went uncleared: a later hit ended
// uc_emu_start with no hook called, and the slice loop had to emulate it.)
TEST(UnicornExceptions, TdcallHitsAfterRestartsAllReachTheHook) {
  TdImage im = make_boot_image(smp64(), 2);
  for (int i = 0; i < 2; ++i) {
    set_slot(im, 2 * i, abi::kUcallPrintf, "vcpu " + std::to_string(i));
    set_slot(im, 2 * i + 1, abi::kUcallDone);
  }
  sim::Session s(im, 1000);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 8u);
  for (const Event& e : ev) EXPECT_TRUE(std::holds_alternative<UcallEvent>(e)) << describe(e);
}

// sim/exception_record.h: QEMU keeps a record of the last exception and clears it only
// when it delivers one itself, which it never does when a hook takes it. Three #GPs in
// one run (the hook skips each faulting load), on a bare engine with 4-level paging:
// the second arrives as #DF and the third not at all (QEMU's triple fault) — unless
// the record is cleared after each, as the simulator does.
struct TwoMiBIdentity {
  uc_engine* uc = nullptr;
  std::vector<uint32_t> vectors;
  std::unique_ptr<sim::ExceptionRecord> record;
  bool clear = false;

  explicit TwoMiBIdentity(bool clear_record) : clear(clear_record) {
    EXPECT_EQ(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
    EXPECT_EQ(uc_ctl_tlb_mode(uc, UC_TLB_CPU), UC_ERR_OK);
    EXPECT_EQ(uc_mem_map(uc, 0, 0x200000, UC_PROT_ALL), UC_ERR_OK);
    const uint64_t pml4e = 0x2000 | 3, pdpte = 0x3000 | 3, pde = 0x83;  // one 2 MiB page at 0
    EXPECT_EQ(uc_mem_write(uc, 0x1000, &pml4e, 8), UC_ERR_OK);
    EXPECT_EQ(uc_mem_write(uc, 0x2000, &pdpte, 8), UC_ERR_OK);
    EXPECT_EQ(uc_mem_write(uc, 0x3000, &pde, 8), UC_ERR_OK);
    const uint64_t cr3 = 0x1000, cr4 = 0x20, cr0 = 0x80000011;
    EXPECT_EQ(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
    EXPECT_EQ(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), UC_ERR_OK);
    EXPECT_EQ(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), UC_ERR_OK);
    record = std::make_unique<sim::ExceptionRecord>(uc);
  }
  ~TwoMiBIdentity() {
    record.reset();
    if (uc) uc_close(uc);
  }
  // Three 10-byte non-canonical loads (movabs rax, [0x8000000000000000]), then HLT.
  std::vector<uint32_t> run_three_gps() {
    std::vector<uint8_t> code;
    for (int i = 0; i < 3; ++i) code.insert(code.end(), {0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0x80});
    code.push_back(0xf4);
    EXPECT_EQ(uc_mem_write(uc, 0x10000, code.data(), code.size()), UC_ERR_OK);
    uc_hook h = 0;
    EXPECT_EQ(uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(+[](uc_engine* e, uint32_t v, void* self) {
                auto* t = static_cast<TwoMiBIdentity*>(self);
                t->vectors.push_back(v);
                if (t->clear) t->record->clear();
                uint64_t rip = 0;
                uc_reg_read(e, UC_X86_REG_RIP, &rip);
                rip += 10;
                uc_reg_write(e, UC_X86_REG_RIP, &rip);
              }),
                          this, 1, 0),
              UC_ERR_OK);
    uc_emu_start(uc, 0x10000, 0x10000 + code.size() - 1, 0, 0);
    return vectors;
  }
};

// sim/engine.cc: uc_emu_start translates its `until` address through the guest's page
// tables; the failed walk of ~0 writes CR2 (and leaves a #PF in QEMU's exception
// record). Engines opened for the simulator use exit addresses instead (none), which
// walks nothing.
uint64_t cr2_after_four_nops(bool exits) {
  TwoMiBIdentity e(false);
  if (exits) {
    EXPECT_EQ(uc_ctl_exits_enable(e.uc), UC_ERR_OK);
  }
  const uint8_t code[] = {0x90, 0x90, 0x90, 0x90, 0xf4};
  EXPECT_EQ(uc_mem_write(e.uc, 0x10000, code, sizeof code), UC_ERR_OK);
  EXPECT_EQ(uc_emu_start(e.uc, 0x10000, exits ? 0 : ~0ull, 0, 0), UC_ERR_OK);
  uint64_t cr2 = 1;
  EXPECT_EQ(uc_reg_read(e.uc, UC_X86_REG_CR2, &cr2), UC_ERR_OK);
  return cr2;
}

TEST(UnicornQuirk, AnUntilAddressIsWalkedThroughTheGuestPageTables) {
  EXPECT_EQ(cr2_after_four_nops(false), 0xfffffffffffffffeull)
      << "the engine no longer walks `until`: sim/engine.cc could go back to it";
  EXPECT_EQ(cr2_after_four_nops(true), 0u);
}

TEST(UnicornQuirk, QemusExceptionRecordIsNeverClearedUnderAHook) {
  TwoMiBIdentity bare(false);
  EXPECT_EQ(bare.run_three_gps(), (std::vector<uint32_t>{13, 8}))
      << "the engine now clears its exception record itself: sim/exception_record.h can go";
}

TEST(UnicornExceptions, ClearingTheRecordKeepsEveryGpAGp) {
  ASSERT_TRUE(sim::ExceptionRecord::offset().has_value()) << "the record was not found in this Unicorn's context";
  TwoMiBIdentity cleared(true);
  EXPECT_EQ(cleared.run_three_gps(), (std::vector<uint32_t>{13, 13, 13}));
}

}  // namespace
}  // namespace tdsim::simtest
