// Reports, from inside the guest, the machine state the boot stub left behind (see
// boot_state_report.h for the keys), so host tests can compare it with what the layout
// asked for and with the TDX architectural rules.
#include "tests/guests/boot_state_report.h"
#include "ucall/guest/guest.h"

namespace bs = tdsim::test::boot_state;

namespace {

struct __attribute__((packed)) DescTable {
  uint16_t limit;
  uint64_t base;
};

uint64_t read_cr0() { uint64_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
uint64_t read_cr3() { uint64_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
uint64_t read_cr4() { uint64_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }

uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}

uint64_t read_rflags() {
  uint64_t v;
  asm volatile("pushfq; popq %0" : "=r"(v));
  return v;
}

#define READ_SEG(seg)                                   \
  [] {                                                  \
    uint16_t v;                                         \
    asm volatile("mov %%" #seg ", %0" : "=r"(v));      \
    return static_cast<uint64_t>(v);                    \
  }()

void report(bs::BootStateKey key, uint64_t value, uint32_t vcpu) {
  GUEST_SYNC_ARGS(key, value, vcpu);
}

}  // namespace

extern "C" void guest_main(uint32_t vcpu) {
  // Read before any ucall can disturb it.
  const uint64_t rflags = read_rflags();
  DescTable gdtr{}, idtr{};
  asm volatile("sgdt %0" : "=m"(gdtr));
  asm volatile("sidt %0" : "=m"(idtr));
  const uint64_t entry_rsp = vcpu < tdsim::guest::kMaxEntryRspVcpus ? tdsim_entry_rsp[vcpu] : 0;

  report(bs::kCr0, read_cr0(), vcpu);
  report(bs::kCr3, read_cr3(), vcpu);
  report(bs::kCr4, read_cr4(), vcpu);
  report(bs::kEfer, rdmsr(0xC0000080), vcpu);
  report(bs::kGdtrBase, gdtr.base, vcpu);
  report(bs::kGdtrLimit, gdtr.limit, vcpu);
  report(bs::kIdtrBase, idtr.base, vcpu);
  report(bs::kIdtrLimit, idtr.limit, vcpu);
  report(bs::kCs, READ_SEG(cs), vcpu);
  report(bs::kDs, READ_SEG(ds), vcpu);
  report(bs::kEs, READ_SEG(es), vcpu);
  report(bs::kSs, READ_SEG(ss), vcpu);
  report(bs::kFs, READ_SEG(fs), vcpu);
  report(bs::kGs, READ_SEG(gs), vcpu);
  report(bs::kRflags, rflags, vcpu);
  report(bs::kEntryRsp, entry_rsp, vcpu);
  report(bs::kEntryRspAbiOk, (entry_rsp + 8) % 16 == 0 ? 1 : 0, vcpu);
  report(bs::kVcpuIndex, vcpu, vcpu);
  GUEST_DONE();
}
