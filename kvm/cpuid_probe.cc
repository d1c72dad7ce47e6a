#include "cpuid_probe.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/mman.h>

#include <cstring>

#include "exit_events.h"
#include "kvm_stepper.h"
#include "kvm_sys.h"
#include "kvm_vm.h"
#include "td_initial_state.h"
#include "tdx_cpuid.h"

namespace tdsim::kvm {

namespace {

constexpr uint64_t kMemorySize = 0x10000;
constexpr uint64_t kCodeGpa = 0x1000;
constexpr uint64_t kListGpa = 0x2000;
// One record per leaf: the guest reads EAX and ECX in, writes EAX..EDX out.
struct Record {
  uint32_t function, index, eax, ebx, ecx, edx;
};
static_assert(sizeof(Record) == 24);
constexpr size_t kMaxRecords = (kMemorySize - kListGpa) / sizeof(Record) - 1;  // one for the end mark

// 32-bit code at kCodeGpa: for each Record at ESI until function == 0xffffffff, CPUID
// and store the answer, then HLT (an exit: this VM has no in-kernel local APIC).
constexpr uint8_t kCode[] = {
    0xbe, 0x00, 0x20, 0x00, 0x00,  // 00 mov esi, kListGpa
    0x8b, 0x06,                    // 05 mov eax, [esi]
    0x83, 0xf8, 0xff,              // 07 cmp eax, -1
    0x74, 0x16,                    // 0a je 0x22
    0x8b, 0x4e, 0x04,              // 0c mov ecx, [esi+4]
    0x0f, 0xa2,                    // 0f cpuid
    0x89, 0x46, 0x08,              // 11 mov [esi+8], eax
    0x89, 0x5e, 0x0c,              // 14 mov [esi+12], ebx
    0x89, 0x4e, 0x10,              // 17 mov [esi+16], ecx
    0x89, 0x56, 0x14,              // 1a mov [esi+20], edx
    0x83, 0xc6, 0x18,              // 1d add esi, 24
    0xeb, 0xe3,                    // 20 jmp 0x05
    0xf4,                          // 22 hlt
};

}  // namespace

CpuidFidelity probe_plain_cpuid(const std::vector<tdx::CpuidEntry2>& table, const CpuidExpectation& expect,
                                std::chrono::milliseconds budget) {
  CpuidFidelity out;
  if (table.size() > kMaxRecords) {
    out.refused = fmt::format("CPUID probe: {} entries, at most {}", table.size(), kMaxRecords);
    return out;
  }
  for (const tdx::CpuidEntry2& e : table)
    if (e.function == 0xffffffff) {
      out.refused = "CPUID probe: leaf 0xffffffff is the probe's end mark";
      return out;
    }
  try {
    void* p = ::mmap(nullptr, kMemorySize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("mmap for the CPUID probe");
    Mapping mem(p, kMemorySize);
    auto* bytes = static_cast<uint8_t*>(p);
    std::memcpy(bytes + kCodeGpa, kCode, sizeof kCode);
    auto* records = reinterpret_cast<Record*>(bytes + kListGpa);
    for (size_t i = 0; i < table.size(); ++i) {
      const bool indexed = table[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
      records[i] = Record{table[i].function, indexed ? table[i].index : 0, 0, 0, 0, 0};
    }
    records[table.size()].function = 0xffffffff;

    KvmVm vm(tdx::kX86DefaultVm);
    vm.set_user_memory_region(0, 0, kMemorySize, p);
    KvmVcpu& v = vm.create_vcpu(0);
    if (std::string why = set_vcpu_cpuid(v.fd(), table); !why.empty()) {
      out.refused = why;
      return out;
    }
    kvm_sregs sregs{};
    checked_ioctl(v.fd(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    td_initial_sregs(sregs);  // a TD's vCPU at reset: 32-bit flat, paging off, no OSXSAVE
    checked_ioctl(v.fd(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = kCodeGpa;
    regs.rflags = 2;
    checked_ioctl(v.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS");

    const ExitHandler on_exit = [](KvmVcpu& vcpu, uint32_t index, const Emit& emit) {
      const kvm_run& run = *vcpu.run();
      if (run.exit_reason == KVM_EXIT_HLT)
        emit(HaltEvent{index, 0});
      else
        emit(FaultEvent{index, 0, -1, 0, false, describe_exit(run)});
      return false;
    };
    KvmStepper stepper(v, 0, on_exit, RunLimits{}, true);
    Turn turn;
    turn.deadline = std::chrono::steady_clock::now() + budget;
    const std::optional<Event> e = stepper.run_turn(turn);
    if (!e || !std::holds_alternative<HaltEvent>(*e)) {
      const auto* f = e ? std::get_if<FaultEvent>(&*e) : nullptr;
      out.refused = fmt::format("CPUID probe: the scratch VM {}",
                                f ? "ended in " + f->detail
                                  : fmt::format("did not reach its HLT within {} ms", budget.count()));
      return out;
    }
    for (size_t i = 0; i < table.size(); ++i) {
      const tdx::CpuidEntry2 t = expect ? expect(table[i]) : table[i];
      const Record& r = records[i];
      const uint32_t want[4] = {t.eax, t.ebx, t.ecx, t.edx};
      const uint32_t got[4] = {r.eax, r.ebx, r.ecx, r.edx};
      for (int k = 0; k < 4; ++k)
        if (want[k] != got[k])
          out.differences.push_back(CpuidDifference{t.function, r.index, static_cast<char>('a' + k), want[k], got[k]});
    }
  } catch (const std::exception& e) {
    out.refused = std::string("CPUID probe: ") + e.what();
  }
  return out;
}

}  // namespace tdsim::kvm
