#include "tdcall_emulation.h"

#include <cstring>

#include "exit_events.h"
#include "kvm_sys.h"
#include "tdsim/abi/tdx.h"
#include "tdx/tdcall_format.h"

namespace tdsim::kvm {

namespace {

constexpr uint32_t kTdcallLen = sizeof abi::kTdcallBytes;

ucall::TdcallRegs to_tdcall_regs(const kvm_regs& r) {
  ucall::TdcallRegs t;
  t.rax = r.rax; t.rcx = r.rcx; t.rdx = r.rdx; t.rbx = r.rbx;
  t.rsi = r.rsi; t.rdi = r.rdi; t.r8 = r.r8; t.r9 = r.r9;
  t.r10 = r.r10; t.r11 = r.r11; t.r12 = r.r12; t.r13 = r.r13;
  t.r14 = r.r14; t.r15 = r.r15;
  return t;
}

void from_tdcall_regs(const ucall::TdcallRegs& t, kvm_regs& r) {
  r.rax = t.rax; r.rcx = t.rcx; r.rdx = t.rdx; r.rbx = t.rbx;
  r.rsi = t.rsi; r.rdi = t.rdi; r.r8 = t.r8; r.r9 = t.r9;
  r.r10 = t.r10; r.r11 = t.r11; r.r12 = t.r12; r.r13 = t.r13;
  r.r14 = t.r14; r.r15 = t.r15;
}

}  // namespace

bool is_tdcall_emulation_failure(const kvm_run& run) {
  const uint8_t* b;
  uint32_t n;
  return emulation_failure_bytes(run, &b, &n) && n >= kTdcallLen &&
         std::memcmp(b, abi::kTdcallBytes, kTdcallLen) == 0;
}

bool emulate_tdcall(KvmVcpu& vcpu, uint32_t index, ::tdsim::tdx::TdxModule& platform, std::mutex& lock,
                    const Emit& emit, const std::function<void(const std::string&)>& observer) {
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  ::tdsim::tdx::TdcallResult res;
  {
    std::lock_guard<std::mutex> g(lock);
    res = platform.tdcall(index, regs.rip, to_tdcall_regs(regs));
  }
  if (observer) observer(::tdsim::tdx::format_tdcall(index, regs.rip, to_tdcall_regs(regs), res.regs, res.event));
  if (res.stop) {
    // The vCPU never resumes; its registers no longer matter.
    if (res.event) emit(*res.event);
    return false;
  }
  from_tdcall_regs(res.regs, regs);
  regs.rip += kTdcallLen;  // TDCALL is trap-like: the guest resumes after it
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
  return !(res.event && emit(*res.event));
}

}  // namespace tdsim::kvm
