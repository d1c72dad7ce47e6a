// Pins the Unicorn 2.1 behaviours the simulator works around (docs/engine-quirks.md):
// each test asserts the quirk itself, so an engine that fixes one fails here and the
// workaround can go.
#include <gtest/gtest.h>
#include <unicorn/unicorn.h>

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

// sim/vcpu.cc: when uc_emu_start is entered again (a new scheduling slice) into a cached
// block holding a TDCALL, the engine stops at the TDCALL without calling the
// invalid-instruction hook; the slice loop emulates those hits.
TEST(UnicornQuirk, CachedTdcallHitsAfterARestartSkipTheInvalidInstructionHook) {
  TdImage im = make_boot_image(smp64(), 2);
  for (int i = 0; i < 2; ++i) {
    set_slot(im, 2 * i, abi::kUcallPrintf, "vcpu " + std::to_string(i));
    set_slot(im, 2 * i + 1, abi::kUcallDone);
  }
  sim::Session s(im, 1000);
  std::vector<Event> ev;
  s.run(limits(), [&](const Event& e) { ev.push_back(e); });
  ASSERT_EQ(ev.size(), 8u);
  EXPECT_GT(s.vcpu(0).host_emulated_tdcalls() + s.vcpu(1).host_emulated_tdcalls(), 0u)
      << "every TDCALL reached the hook: the slice loop's fallback is no longer exercised";
}

}  // namespace
}  // namespace tdsim::simtest
