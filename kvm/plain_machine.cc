#include "plain_machine.h"

#include <linux/kvm.h>

#include "core/shared_bit_fold.h"
#include "diag/guest_view.h"
#include "tdsim/abi/tdx.h"
#include "exit_events.h"
#include "fault_capture.h"
#include "kvm_sys.h"
#include "tdcall_emulation.h"
#include "td_initial_state.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

uint64_t current_rip(const KvmVcpu& vcpu) {
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  return regs.rip;
}

// KVM reports RIP after an IN/OUT; events name the instruction itself, as Unicorn's do.
// The encodings that reach KVM_EXIT_IO: E4-E7 ib (2 bytes), EC-EF (1), 6C-6F (string
// forms, 1), each with an optional 66 (operand size) or F3 (REP) prefix.
uint64_t io_instruction_rip(const KvmVcpu& vcpu, const TdImage& image, const GuestMemory& mem, uint64_t after,
                            const kvm_run& run) {
  const diag::CpuState s = read_cpu_state(vcpu.fd());
  const diag::LinearView view{(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0};
  uint8_t b[3] = {};
  if (after < 3 || !diag::read_linear(mem, image, view, after - 3, b, 3)) return after;
  auto prefixed = [&](int opcode_at) {  // opcode at b[opcode_at]: include one prefix byte
    return opcode_at > 0 && (b[opcode_at - 1] == 0x66 || b[opcode_at - 1] == 0xf3) ? 1 : 0;
  };
  const uint8_t last = b[2];
  if ((last >= 0xec && last <= 0xef) || (last >= 0x6c && last <= 0x6f)) return after - 1 - prefixed(2);
  if (b[1] >= 0xe4 && b[1] <= 0xe7 && last == (run.io.port & 0xff)) return after - 2 - prefixed(1);
  return after;
}

}  // namespace

PlainMachine::PlainMachine(const TdImage& image, ::tdsim::tdx::TdxConfig config)
    : image_(image),
      mem_(image),
      mmio_read_(config.hooks.mmio_read),
      platform_(image, mem_, std::move(config)),
      vm_(tdx::kX86DefaultVm) {
  // The VMM's build of the TD through the TDX module model (tdx/td_build.h): the private
  // pages added and measured from the memory just loaded, in the order kvm-tdx adds them.
  platform_.build_td();
  // The S-bit (47/51) would be a reserved physical-address bit for this guest
  // (MAXPHYADDR 36 without settable CPUID): fold it out, shared regions stay untagged.
  fold_shared_bit_in_page_tables(image, mem_);
  uint32_t slot = 0;
  for (const GuestMemory::Block& b : mem_.blocks()) vm_.set_user_memory_region(slot++, b.gpa, b.size, b.host);
  for (uint32_t i = 0; i < image.nr_vcpus; ++i) {
    KvmVcpu& v = vm_.create_vcpu(i);
    load_td_initial_state(v.fd(), image, i);
    vcpus_.push_back(&v);
  }
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
      return !emit(decode_mmio_exit(run, index, image_, mem_, mmio_read_));
    case KVM_EXIT_HLT:
      // KVM reports RIP after the 1-byte HLT; events name the instruction itself.
      emit(HaltEvent{index, current_rip(vcpu) - 1});
      return false;
    case KVM_EXIT_IO:
      // No port devices exist in a TD (port I/O would be a #VE there): stop rather than
      // pretend the access did something.
      emit(FaultEvent{index, io_instruction_rip(vcpu, image_, mem_, current_rip(vcpu), run), -1, 0, false,
                      "unexpected port I/O: " + describe_exit(run)});
      return false;
    case KVM_EXIT_SHUTDOWN:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, true, "triple fault (KVM_EXIT_SHUTDOWN)"});
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      if (is_tdcall_emulation_failure(run)) return emulate_tdcall(vcpu, index, platform_, platform_lock_, emit);
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false, describe_exit(run)});
      return false;
    case KVM_EXIT_INTR:
      return true;  // a signal for this thread; the driver decides whether to go on
    default:
      emit(FaultEvent{index, current_rip(vcpu), -1, 0, false, "unexpected exit: " + describe_exit(run)});
      return false;
  }
}

}  // namespace tdsim::kvm
