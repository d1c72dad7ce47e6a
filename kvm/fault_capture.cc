#include "fault_capture.h"

#include <linux/kvm.h>

#include "diag/fault_explainer.h"
#include "kvm_sys.h"

namespace tdsim::kvm {

namespace {

diag::SegmentView segment(const kvm_segment& s) {
  diag::SegmentView v;
  v.selector = s.selector;
  v.base = s.base;
  v.limit = s.limit;
  // kvm_segment's bit fields in the VMX access-rights layout diag uses.
  v.attributes = static_cast<uint16_t>((s.type & 0xf) | (s.s & 1) << 4 | (s.dpl & 3) << 5 | (s.present & 1) << 7 |
                                       (s.avl & 1) << 12 | (s.l & 1) << 13 | (s.db & 1) << 14 | (s.g & 1) << 15);
  return v;
}

}  // namespace

diag::CpuState read_cpu_state(int vcpu_fd) {
  kvm_regs r{};
  kvm_sregs sr{};
  checked_ioctl(vcpu_fd, KVM_GET_REGS, &r, "KVM_GET_REGS");
  checked_ioctl(vcpu_fd, KVM_GET_SREGS, &sr, "KVM_GET_SREGS");
  diag::CpuState s;
  s.rip = r.rip;
  s.rsp = r.rsp;
  s.rflags = r.rflags;
  s.cr0 = sr.cr0, s.cr2 = sr.cr2, s.cr3 = sr.cr3, s.cr4 = sr.cr4, s.efer = sr.efer;
  s.cs = segment(sr.cs), s.ds = segment(sr.ds), s.ss = segment(sr.ss);
  s.gdtr = {sr.gdt.base, sr.gdt.limit};
  s.idtr = {sr.idt.base, sr.idt.limit};
  s.gprs = std::array<uint64_t, 16>{r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                                    r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  return s;
}

void explain_into(FaultEvent& ev, int vcpu_fd, const TdImage& image, const GuestMemory& mem) {
  diag::CpuState s = read_cpu_state(vcpu_fd);
  if (ev.rip) s.rip = ev.rip;
  ev.explanation = diag::explain_fault(ev, s, image, mem);
}

}  // namespace tdsim::kvm
