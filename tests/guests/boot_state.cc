// Reports, from inside the guest, the machine state the boot stub left behind (see
// boot_state_report.h for the keys), so host tests can compare it with what the layout
// asked for and with the TDX architectural rules.
#include "tests/guests/boot_state_report.h"
#include "ucall/guest/cpu_state.h"
#include "ucall/guest/guest.h"

namespace bs = tdsim::test::boot_state;
namespace g = tdsim::guest;

namespace {

void report(bs::BootStateKey key, uint64_t value, uint32_t vcpu) {
  GUEST_SYNC_ARGS(key, value, vcpu);
}

}  // namespace

extern "C" void guest_main(uint32_t vcpu) {
  // Read before any ucall can disturb it.
  const uint64_t rflags = g::read_rflags();
  const g::DescriptorTableRegister gdtr = g::read_gdtr(), idtr = g::read_idtr();
  const uint64_t entry_rsp = vcpu < tdsim::guest::kMaxEntryRspVcpus ? tdsim_entry_rsp[vcpu] : 0;

  report(bs::kCr0, g::read_cr0(), vcpu);
  report(bs::kCr3, g::read_cr3(), vcpu);
  report(bs::kCr4, g::read_cr4(), vcpu);
  report(bs::kEfer, g::rdmsr(0xC0000080), vcpu);
  report(bs::kGdtrBase, gdtr.base, vcpu);
  report(bs::kGdtrLimit, gdtr.limit, vcpu);
  report(bs::kIdtrBase, idtr.base, vcpu);
  report(bs::kIdtrLimit, idtr.limit, vcpu);
  report(bs::kCs, g::read_cs(), vcpu);
  report(bs::kDs, g::read_ds(), vcpu);
  report(bs::kEs, g::read_es(), vcpu);
  report(bs::kSs, g::read_ss(), vcpu);
  report(bs::kFs, g::read_fs(), vcpu);
  report(bs::kGs, g::read_gs(), vcpu);
  report(bs::kRflags, rflags, vcpu);
  report(bs::kEntryRsp, entry_rsp, vcpu);
  report(bs::kEntryRspAbiOk, (entry_rsp + 8) % 16 == 0 ? 1 : 0, vcpu);
  report(bs::kVcpuIndex, vcpu, vcpu);
  GUEST_DONE();
}
