// A TD's RDMSR/WRMSR on plain KVM: the TDX module decides what each MSR access does
// (tdx/td_msr.h), so KVM is told to hand every access that is not native in a TD to user
// space: an MSR filter (KVM_X86_SET_MSR_FILTER) denies those inside the module's bitmap
// ranges and, by default, everything outside them, and KVM_CAP_X86_USER_SPACE_MSR turns
// a denied access (and one KVM itself refuses, such as the x2APIC registers of this VM
// without an in-kernel APIC, which no filter can cover) into KVM_EXIT_X86_RDMSR/WRMSR.
// The exit then gets what the module gives: its own value, a #VE, a #GP(0), or, for a
// write of EFER that changes SCE only, the write itself.
#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstring>
#include <vector>

#include "kvm_sys.h"
#include "vcpu_msr.h"
#include "tdx/td_msr_virtual.h"
#include "plain_machine.h"

namespace tdsim::kvm {

namespace {

constexpr uint32_t kBitmapMsrs = 0x2000;  // the module's MSR bitmap: 0..0x1fff and 0xc0000000..0xc0001fff
constexpr uint32_t kHighBase = 0xc0000000u;

}  // namespace

void PlainMachine::route_msrs_to_module() {
  for (const auto& [cap, name] : {std::pair{KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
                                  std::pair{KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"}})
    if (vm_.check_extension(cap) <= 0)
      throw BackendUnsupported(fmt::format("kvm: this KVM lacks {} (Linux 5.10 and later have it): a TD's MSR "
                                           "accesses could not be given the TDX module's rules",
                                           name));
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
  cap.args[0] = KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER;
  checked_ioctl(vm_.fd(), KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR)");
  // One bitmap per bitmap range and direction; a set bit lets KVM run the access itself.
  std::vector<uint8_t> bitmaps[4];
  kvm_msr_filter filter{};
  filter.flags = KVM_MSR_FILTER_DEFAULT_DENY;
  for (int i = 0; i < 4; ++i) {
    const uint32_t base = i < 2 ? 0 : kHighBase;
    const bool write = i & 1;
    bitmaps[i].assign(kBitmapMsrs / 8, 0);
    for (uint32_t n = 0; n < kBitmapMsrs; ++n)
      if (platform_.msr_access(base + n, write).access == ::tdsim::tdx::MsrAccess::kNative)
        bitmaps[i][n / 8] |= static_cast<uint8_t>(1u << (n % 8));
    filter.ranges[i] = kvm_msr_filter_range{static_cast<uint32_t>(write ? KVM_MSR_FILTER_WRITE : KVM_MSR_FILTER_READ),
                                            kBitmapMsrs, base, bitmaps[i].data()};
  }
  checked_ioctl(vm_.fd(), KVM_X86_SET_MSR_FILTER, &filter, "KVM_X86_SET_MSR_FILTER");
}

bool PlainMachine::msr_exit(KvmVcpu& vcpu, uint32_t index) {
  kvm_run& run = *vcpu.run();
  const bool write = run.exit_reason == KVM_EXIT_X86_WRMSR;
  const uint32_t msr = run.msr.index;
  kvm_sregs sregs{};
  checked_ioctl(vcpu.fd(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  ::tdsim::tdx::MsrDecision d;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    d = platform_.msr_instruction(index, msr, write, run.msr.data, sregs.efer);
  }
  using ::tdsim::tdx::MsrAccess;
  run.msr.error = 0;
  switch (d.access) {
    case MsrAccess::kModule:
      if (!write) run.msr.data = d.value;  // KVM puts it in EDX:EAX as it completes the RDMSR
      return true;
    case MsrAccess::kNative:
      if (run.msr.reason == KVM_MSR_EXIT_REASON_FILTER && write && msr == ::tdsim::tdx::kMsrEfer) {
        // The module let the write through (SCE only): the CPU's write, done as the VMM's.
        // Only SCE differs from the EFER the vCPU has (LMA stays as it is), so the write
        // goes in with the rest of the segment state the exit left.
        sregs.efer = (sregs.efer & ~::tdsim::tdx::kEferSce) | (run.msr.data & ::tdsim::tdx::kEferSce);
        checked_ioctl(vcpu.fd(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS (EFER.SCE)");
        return true;
      }
      if (run.msr.reason == KVM_MSR_EXIT_REASON_FILTER && write) {
        // Another checked write the module lets through (IA32_XSS): KVM_SET_MSRS performs
        // it; where KVM refuses the value, its own WRMSR would have been a #GP.
        run.msr.error = set_vcpu_msr(vcpu.fd(), msr, run.msr.data) ? 0 : 1;
        return true;
      }
      // Native in a TD but refused by KVM (unknown to it, or an x2APIC register without
      // an in-kernel APIC): the #GP KVM would have injected.
      run.msr.error = 1;
      return true;
    case MsrAccess::kGp:
      run.msr.error = 1;  // KVM injects #GP(0) with RIP on the instruction
      return true;
    case MsrAccess::kVe:
      break;
  }
  // The #VE: the instruction does not happen. KVM completes the exit (a RDMSR's EDX:EAX,
  // RIP past it), so the registers from before are put back before the #VE goes in.
  kvm_regs before{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &before, "KVM_GET_REGS");
  complete_pending_exit(vcpu, write ? "a WRMSR exit" : "a RDMSR exit");
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &before, "KVM_SET_REGS (undo the MSR access)");
  ::tdsim::tdx::TdxModule::VeDelivery v;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    v = platform_.raise_ve(index, ::tdsim::tdx::msr_instruction_ve(write));
  }
  inject_ve(vcpu, v);
  return true;
}

}  // namespace tdsim::kvm
