#include "td_initial_state.h"

#include "core/td_initial_state.h"

#include <cpuid.h>

#include <cstring>

#include "kvm_sys.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::kvm {

namespace {

// The TDX module loads selector 0 with a valid cached descriptor (AR 0xC09B / 0xC093);
// VMX and SVM accept that for a protected-mode guest, so we reproduce it exactly rather
// than inventing a GDT selector the guest never loaded.
constexpr uint16_t kTdInitSelector = 0;

kvm_segment flat_segment(uint8_t type) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = kTdInitSelector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = 1;
  s.s = 1;
  s.l = 0;
  s.g = 1;
  return s;
}

}  // namespace

uint32_t host_cpuid1_eax() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid(1, a, b, c, d);
  return a;
}

void td_initial_regs(const TdImage& image, uint32_t index, kvm_regs& regs) {
  const TdInitialVcpuState st = td_initial_vcpu_state(image, index, host_cpuid1_eax());
  std::memset(&regs, 0, sizeof regs);
  regs.rax = st.rax; regs.rbx = st.rbx; regs.rcx = st.rcx; regs.rdx = st.rdx;
  regs.rsi = st.rsi; regs.rdi = st.rdi; regs.rbp = st.rbp; regs.rsp = st.rsp;
  regs.r8 = st.r8; regs.r9 = st.r9; regs.r10 = st.r10; regs.r11 = st.r11;
  regs.r12 = st.r12; regs.r13 = st.r13; regs.r14 = st.r14; regs.r15 = st.r15;
  regs.rip = st.rip;
  regs.rflags = st.rflags;
}

void td_initial_sregs(kvm_sregs& s) {
  s.cs = flat_segment(0xb);  // execute/read, accessed
  s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(0x3);  // read/write, accessed
  s.tr = kvm_segment{};
  s.tr.limit = 0xffff;
  s.tr.type = 0xb;  // busy 32-bit TSS (AR 0x8B)
  s.tr.present = 1;
  s.ldt = kvm_segment{};
  s.ldt.limit = 0xffff;
  s.ldt.type = 0x2;
  s.ldt.present = 0;
  s.ldt.unusable = 1;
  const TdInitialVcpuState st;  // the control state does not depend on the image
  s.gdt.base = st.gdtr_base;
  s.gdt.limit = static_cast<uint16_t>(st.gdtr_limit);
  s.idt.base = st.idtr_base;
  s.idt.limit = static_cast<uint16_t>(st.idtr_limit);
  s.cr0 = st.cr0;
  s.cr2 = 0;
  s.cr3 = st.cr3;
  s.cr4 = st.cr4;
  // EFER.LME preset (0x901): the TD starts this way, so a stub written for the TD never
  // writes EFER — and here it could not, since the guest has no CPUID.LM
  // (docs/engine-quirks.md, "This host's KVM").
  s.efer = st.efer;
  std::memset(s.interrupt_bitmap, 0, sizeof s.interrupt_bitmap);
}

void load_td_initial_state(int vcpu_fd, const TdImage& image, uint32_t index) {
  kvm_sregs sregs{};
  checked_ioctl(vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  td_initial_sregs(sregs);
  checked_ioctl(vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
  kvm_regs regs{};
  td_initial_regs(image, index, regs);
  checked_ioctl(vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

}  // namespace tdsim::kvm
