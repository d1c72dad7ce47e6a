#include "plain_machine.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>


#include "core/shared_bit_fold.h"
#include "diag/guest_view.h"
#include "tdsim/abi/tdx.h"
#include "exit_events.h"
#include "fault_capture.h"
#include "kvm_sys.h"
#include "tdcall_emulation.h"
#include "td_initial_state.h"
#include "cpuid_probe.h"
#include "tdx_cpuid.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

uint64_t current_rip(const KvmVcpu& vcpu) {
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  return regs.rip;
}

// The IN/OUT that made a KVM_EXIT_IO, found from RIP after it (KVM's completion of the
// exit steps over it). The encodings that reach KVM_EXIT_IO: E4-E7 ib (2 bytes), EC-EF
// (1), 6C-6F (string forms, 1), each with an optional 66 (operand size) or F3 (REP)
// prefix.
struct IoInsn {
  uint64_t rip;
  uint32_t length = 0;  // 0: not recognised
  bool immediate = false, string = false;
};
IoInsn io_instruction(const KvmVcpu& vcpu, const TdImage& image, const GuestMemory& mem, uint64_t after,
                      const kvm_run& run) {
  const diag::CpuState s = read_cpu_state(vcpu.fd());
  const diag::LinearView view{(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0, s.cr4};
  uint8_t b[3] = {};
  if (after < 3 || !diag::read_linear(mem, image, view, after - 3, b, 3)) return {after};
  auto prefixed = [&](int opcode_at) {  // opcode at b[opcode_at]: include one prefix byte
    return opcode_at > 0 && (b[opcode_at - 1] == 0x66 || b[opcode_at - 1] == 0xf3) ? 1u : 0u;
  };
  const uint8_t last = b[2];
  if ((last >= 0xec && last <= 0xef) || (last >= 0x6c && last <= 0x6f)) {
    const uint32_t len = 1 + prefixed(2);
    return {after - len, len, false, last <= 0x6f && last >= 0x6c};
  }
  if (b[1] >= 0xe4 && b[1] <= 0xe7 && last == (run.io.port & 0xff)) {
    const uint32_t len = 2 + prefixed(1);
    return {after - len, len, true, false};
  }
  return {after};
}

}  // namespace

PlainMachine::PlainMachine(const TdImage& image, ::tdsim::tdx::TdxConfig config)
    : image_(image),
      mem_(image),
      mmio_read_(config.hooks.mmio_read),
      platform_(image, mem_, std::move(config)),
      vm_(tdx::kX86DefaultVm) {
  // KVM refuses CR4.LA57 unless the guest's CPUID enumerates it (and the host CPU has
  // it): without that the stub's MOV to CR4 would #GP into a triple fault.
  if (image.paging_levels == 5) {
    const CpuidFidelity& f = plain_kvm_cpuid_fidelity();
    const uint32_t shown = f.guest_value(7, 0, 'c', platform_.td_cpuid().answer(7, 0).ecx);
    if (!f.refused.empty() || !(shown & (1u << 16)))
      throw BackendUnsupported(fmt::format(
          "kvm: 5-level paging (--paging-levels 5) needs CR4.LA57, which KVM refuses for a guest whose CPUID "
          "does not enumerate LA57; {} (docs/engine-quirks.md). The unicorn backend runs it",
          f.refused.empty() ? fmt::format("this host's KVM shows the guest CPUID.7.0:ECX 0x{:08x}, bit 16 clear", shown)
                            : "this host's KVM did not take the TD CPUID: " + f.refused));
  }
  // The VMM's build of the TD through the TDX module model (tdx/td_build.h): the private
  // pages added and measured from the memory just loaded, in the order kvm-tdx adds them.
  platform_.build_td();
  // The memslots hold each page once, at its private GPA: fold the S-bit (47/51) out of
  // the page tables, shared regions stay untagged (core/shared_bit_fold.h).
  fold_shared_bit_in_page_tables(image, mem_);
  route_msrs_to_module();
  uint32_t slot = 0;
  for (const GuestMemory::Block& b : mem_.blocks()) vm_.set_user_memory_region(slot++, b.gpa, b.size, b.host);
  for (uint32_t i = 0; i < image.nr_vcpus; ++i) {
    KvmVcpu& v = vm_.create_vcpu(i);
    // The CPUID instruction in a TD is the TDX module's (tdx/td_cpuid.h); plain KVM answers
    // it in the kernel, so the model goes in as the vCPU's CPUID. A KVM that refuses it
    // leaves the guest its own CPUID and the run goes on (the TD's reset EFER needs no
    // CPUID.LM); plain_kvm_cpuid_fidelity says so, and what a KVM that takes it shows.
    (void)set_vcpu_cpuid(v.fd(), plain_td_cpuid_table(platform_.td_cpuid(), i));
    load_td_initial_state(v.fd(), image, i);
    vcpus_.push_back(&v);
  }
}

std::vector<tdx::CpuidEntry2> plain_td_cpuid_table(::tdsim::tdx::CpuidModel cpu, uint32_t vcpu_index) {
  ::tdsim::tdx::CpuidValue leaf1 = cpu.answer(1, 0);
  leaf1.ebx = (leaf1.ebx & 0x00ffffffu) | ((vcpu_index & 0xff) << 24);  // initial APIC ID
  cpu.set(1, ::tdsim::tdx::CpuidModel::kAnySubleaf, leaf1);
  // SYSCALL/SYSRET: the module shows it in 64-bit mode only, and KVM's table has no
  // mode-dependent bit; the guest code after the boot stub runs in 64-bit mode.
  ::tdsim::tdx::CpuidValue ext1 = cpu.answer(0x80000001, 0);
  ext1.edx |= 1u << 11;
  cpu.set(0x80000001, ::tdsim::tdx::CpuidModel::kAnySubleaf, ext1);
  return cpuid_entries(cpu);
}

const CpuidFidelity& plain_kvm_cpuid_fidelity() {
  // Once per process: a scratch VM per question would cost more than the answer, and
  // the host's KVM does not change under a running process.
  static const CpuidFidelity fidelity = [] {
    namespace t = ::tdsim::tdx;
    const t::CpuidModel model = t::td_cpuid_values(t::sapphire_rapids_native(), {});
    // What the module answers in the probe's state, SYSCALL as in 64-bit mode (the table's).
    const auto expect = [&model](const tdx::CpuidEntry2& e) {
      tdx::CpuidEntry2 x = e;
      const t::CpuidExecution ex = t::execute_td_cpuid(model, e.function, e.index, t::CpuidVcpuState{0, 0, 1, true});
      if (ex.value) {
        x.eax = ex.value->eax;
        x.ebx = ex.value->ebx;
        x.ecx = ex.value->ecx;
        x.edx = ex.value->edx;
      }
      return x;
    };
    return probe_plain_cpuid(plain_td_cpuid_table(model, 0), expect);
  }();
  return fidelity;
}

bool PlainMachine::handle_exit(KvmVcpu& vcpu, uint32_t index, const Emit& emit_raw) {
  // A plain VM's registers can be read: every fault carries its report.
  const Emit emit = [&](const Event& e) {
    const auto* f = std::get_if<FaultEvent>(&e);
    if (!f) return emit_raw(e);
    FaultEvent copy = *f;
    explain_into(copy, vcpu.fd(), image_, mem_);
    return emit_raw(copy);
  };
  kvm_run& run = *vcpu.run();
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO:
      if (shared_mmio_ve(vcpu, index)) return true;
      return !emit(decode_mmio_exit(run, index, image_, mem_, mmio_read_));
    case KVM_EXIT_HLT:
      return hlt_ve(vcpu, index, emit);
    case KVM_EXIT_IO:
      return port_io_ve(vcpu, index, emit);
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
      return msr_exit(vcpu, index);
    case KVM_EXIT_SHUTDOWN:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, true, "triple fault (KVM_EXIT_SHUTDOWN)"});
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      if (is_tdcall_emulation_failure(run)) return emulate_tdcall(vcpu, index, platform_, platform_lock_, emit, tdcall_observer_);
      if (dispatcher_instruction(vcpu, index)) return true;
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false, describe_exit(run)});
      return false;
    case KVM_EXIT_INTR:
      return true;  // a signal for this thread; the driver decides whether to go on
    default:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false, "unexpected exit: " + describe_exit(run)});
      return false;
  }
}

bool PlainMachine::port_io_ve(KvmVcpu& vcpu, uint32_t index, const Emit& emit) {
  // In a TD, port I/O is a #VE (docs/tdx-module-standin.md): the instruction does not
  // happen, the TDX module records it for TDG.VP.VEINFO.GET and the vCPU takes vector 20.
  const kvm_run& run = *vcpu.run();
  const std::string what = describe_exit(run);
  const bool in = run.io.direction == KVM_EXIT_IO_IN;
  const uint16_t port = run.io.port;
  const uint32_t size = run.io.size;
  const uint32_t count = run.io.count;
  kvm_regs before{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &before, "KVM_GET_REGS");
  complete_pending_exit(vcpu, "port I/O");
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  const IoInsn insn = io_instruction(vcpu, image_, mem_, regs.rip, run);
  if (insn.length == 0 || insn.string || count != 1) {
    emit(FaultEvent{index, insn.rip, -1, 0, false,
                    "port I/O tdsim cannot turn into a #VE (string or unrecognised form): " + what});
    return false;
  }
  ::tdsim::tdx::TdxModule::VeDelivery d;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    d = platform_.raise_ve(index, ::tdsim::tdx::io_instruction_ve(in, port, size, insn.immediate, insn.length));
  }
  regs.rax = before.rax;  // an IN's completion wrote the data page into RAX
  regs.rip = insn.rip;
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
  inject_ve(vcpu, d);
  return true;
}

}  // namespace tdsim::kvm
