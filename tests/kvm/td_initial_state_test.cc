// The register and segment values the plain backend loads are the TD initial state of
// docs/tdx-abi.md, "TD initial vCPU state" (pure: no /dev/kvm needed).
#include <gtest/gtest.h>

#include "kvm/td_initial_state.h"
#include "tdsim/abi/tdx.h"

namespace tdsim {
namespace {

TEST(TdInitialState, GprsFollowTdhVpInit) {
  TdImage img;
  img.gpaw = 52;
  img.init_rcx = 0xfeedface;
  kvm_regs r;
  kvm::td_initial_regs(img, 3, r);
  EXPECT_EQ(r.rax, 0u);
  EXPECT_EQ(r.rbx, 52u);
  EXPECT_EQ(r.rcx, 0xfeedfaceu);
  EXPECT_EQ(r.r8, 0xfeedfaceu);
  EXPECT_EQ(r.rdx, kvm::host_cpuid1_eax());
  EXPECT_NE(r.rdx, 0u);
  EXPECT_EQ(r.rsi, 3u);
  EXPECT_EQ(r.rdi | r.rsp | r.rbp | r.r9 | r.r10 | r.r11 | r.r12 | r.r13 | r.r14 | r.r15, 0u);
  EXPECT_EQ(r.rip, 0xfffffff0u);
  EXPECT_EQ(r.rflags, 2u);
}

TEST(TdInitialState, SegmentsAreFlat32BitWithPagingOff) {
  kvm_sregs s{};
  kvm::td_initial_sregs(s);
  EXPECT_EQ(s.cs.base, 0u);
  EXPECT_EQ(s.cs.limit, 0xffffffffu);
  EXPECT_EQ(s.cs.type, 0xb);
  EXPECT_EQ(s.cs.db, 1);
  EXPECT_EQ(s.cs.l, 0);
  EXPECT_EQ(s.cs.g, 1);
  EXPECT_EQ(s.cs.s, 1);
  EXPECT_EQ(s.cs.present, 1);
  for (const kvm_segment* d : {&s.ds, &s.es, &s.fs, &s.gs, &s.ss}) {
    EXPECT_EQ(d->type, 0x3);
    EXPECT_EQ(d->limit, 0xffffffffu);
    EXPECT_EQ(d->present, 1);
  }
  EXPECT_EQ(s.cr0, abi::kTdInitCr0);
  EXPECT_EQ(s.cr4, abi::kTdInitCr4);
  EXPECT_EQ(s.efer, abi::kTdInitEfer);
  EXPECT_EQ(s.gdt.base, 0u);
  EXPECT_EQ(s.gdt.limit, 0xffff);
  EXPECT_EQ(s.idt.limit, 0);
  EXPECT_EQ(s.tr.type, 0xb);
  EXPECT_EQ(s.ldt.unusable, 1);
}

}  // namespace
}  // namespace tdsim
