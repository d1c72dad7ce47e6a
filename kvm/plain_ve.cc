// The #VEs a TD takes where plain KVM exits to userspace instead: the exit is completed
// without running guest code, the registers are put back as they were before the
// instruction, and the platform's #VE (or its #DF) is injected with KVM_SET_VCPU_EVENTS.
// Port I/O is in plain_machine.cc; here a data access to the TD's shared MMIO window
// (KVM_EXIT_MMIO there: an EPT violation the TD sees as a #VE), HLT (KVM_EXIT_HLT: the
// TDX module makes every HLT a #VE) and the instructions of the module's dispatcher that
// this KVM fails to emulate (KVM_EXIT_INTERNAL_ERROR: the module's #UD or #VE).
#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "diag/disasm.h"
#include "diag/guest_view.h"
#include "diag/memory_access.h"
#include "diag/page_walk.h"
#include "exit_events.h"
#include "fault_capture.h"
#include "kvm_sys.h"
#include "plain_machine.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::kvm {

namespace {

diag::LinearView view_of(const diag::CpuState& s) {
  return diag::LinearView{(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0, s.cr4};
}

// Whether the prefixes of the instruction in `b` are ones a compiler or assembler emits:
// each legacy prefix at most once, then at most one REX right before the opcode. A
// candidate start inside the previous instruction (an immediate of 0x44 bytes, say)
// decodes too, but with repeated or misplaced prefixes.
bool plausible_prefixes(const uint8_t* b, size_t n) {
  static constexpr uint8_t kLegacy[] = {0x66, 0x67, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0xf0, 0xf2, 0xf3};
  bool seen[sizeof kLegacy] = {};
  size_t i = 0;
  for (; i < n; ++i) {
    size_t k = 0;
    while (k < sizeof kLegacy && kLegacy[k] != b[i]) ++k;
    if (k == sizeof kLegacy) break;
    if (seen[k]) return false;
    seen[k] = true;
  }
  if (i < n && (b[i] & 0xf0) == 0x40) ++i;  // REX
  return i < n && (b[i] & 0xf0) != 0x40;
}

}  // namespace

void complete_pending_exit(KvmVcpu& vcpu, const char* what) {
  // KVM_RUN with immediate_exit: "complete pending operations without allowing any
  // further instructions" (api.rst), so no completion is left to step over the
  // instruction once the #VE is injected.
  kvm_run& run = *vcpu.run();
  run.immediate_exit = 1;
  const int r = ::ioctl(vcpu.fd(), KVM_RUN, 0);
  const int err = errno;
  run.immediate_exit = 0;
  if (r != -1 || err != EINTR)
    throw BackendError(fmt::format("KVM_RUN with immediate_exit to complete {}: {}", what,
                                   r == -1 ? std::strerror(err) : "ran the guest"));
}

namespace {

void inject_exception(KvmVcpu& vcpu, uint8_t vector, bool has_error_code, const char* call) {
  kvm_vcpu_events ev{};
  checked_ioctl(vcpu.fd(), KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS");
  ev.exception.injected = 1;
  ev.exception.nr = vector;
  ev.exception.has_error_code = has_error_code ? 1 : 0;
  ev.exception.error_code = 0;
  checked_ioctl(vcpu.fd(), KVM_SET_VCPU_EVENTS, &ev, call);
}

}  // namespace

void inject_ve(KvmVcpu& vcpu, ::tdsim::tdx::TdxModule::VeDelivery d) {
  const bool ve = d == ::tdsim::tdx::TdxModule::VeDelivery::kVe;
  inject_exception(vcpu, ve ? static_cast<uint8_t>(abi::kVeVector) : 8, !ve,
                   ve ? "KVM_SET_VCPU_EVENTS (inject #VE)" : "KVM_SET_VCPU_EVENTS (inject #DF for a second #VE)");
}

bool PlainMachine::dispatcher_instruction(KvmVcpu& vcpu, uint32_t index) {
  const uint8_t* b = nullptr;
  uint32_t n = 0;
  if (!emulation_failure_bytes(*vcpu.run(), &b, &n)) return false;
  const std::optional<::tdsim::tdx::TdInstruction> t = ::tdsim::tdx::td_instruction_at({b, n});
  if (!t) return false;
  // An emulation failure leaves RIP on the instruction, where the module's #UD or #VE
  // leaves it too.
  if (t->ud) {
    inject_exception(vcpu, 6, false, "KVM_SET_VCPU_EVENTS (inject #UD)");
    return true;
  }
  ::tdsim::tdx::TdxModule::VeDelivery d;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    d = platform_.raise_ve(index, ::tdsim::tdx::instruction_ve(*t));
  }
  inject_ve(vcpu, d);
  return true;
}

bool PlainMachine::shared_mmio_ve(KvmVcpu& vcpu, uint32_t index) {
  const kvm_run& run = *vcpu.run();
  if (!image_.in_shared_mmio(run.mmio.phys_addr)) return false;  // the ucall page, or no TD GPA at all
  const bool write = run.mmio.is_write != 0;
  const uint64_t untagged = run.mmio.phys_addr;
  // The registers before the access: KVM's emulator writes the destination of a read
  // only when the exit completes, and a write changes no register but RIP.
  kvm_regs before{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &before, "KVM_GET_REGS");
  const diag::CpuState s = read_cpu_state(vcpu.fd());
  complete_pending_exit(vcpu, "an MMIO exit");
  kvm_regs after{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &after, "KVM_GET_REGS");
  const std::optional<MmioInsn> insn = mmio_instruction(s, after.rip, write, untagged, run.mmio.len);
  if (!insn) {
    // Nothing to undo the access with: the vCPU stops where it is, saying why.
    throw BackendError(fmt::format("kvm: MMIO {} of shared GPA {:#x} ended before RIP {:#x}, and no instruction "
                                   "there accesses it: cannot raise the TD's #VE",
                                   write ? "write" : "read", untagged | image_.shared_bit, after.rip));
  }
  before.rip = insn->rip;
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &before, "KVM_SET_REGS (undo the MMIO access)");
  ::tdsim::tdx::TdxModule::VeDelivery d;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    d = platform_.raise_ve(index, ::tdsim::tdx::shared_gpa_ve(write, insn->gla, untagged | image_.shared_bit));
  }
  inject_ve(vcpu, d);
  return true;
}

std::optional<PlainMachine::MmioInsn> PlainMachine::mmio_instruction(const diag::CpuState& s, uint64_t end,
                                                                     bool write, uint64_t gpa, uint32_t len) const {
  // KVM_EXIT_MMIO carries the GPA and size only, and KVM may already have moved RIP past
  // the instruction (a write is emulated before the exit): the instruction is one ending
  // at `end` whose memory operand, computed with the registers it ran with, has that
  // size and translates to `gpa` — which also gives the GLA. Prefixes that change only
  // the register (REX.R, REX.W of MOVSX/MOVZX) leave several such candidates: the longest
  // with plausible prefixes is taken, the prefix being part of the instruction unless the
  // previous instruction happens to end in a prefix byte (docs/engine-quirks.md).
  if (!s.gprs) return std::nullopt;
  diag::AccessRegs ar;
  std::copy(s.gprs->begin(), s.gprs->end(), ar.gpr);
  const diag::CpuMode mode = diag::code_mode(s);
  std::optional<MmioInsn> found;
  for (uint64_t n = 1; n <= 15 && n <= end; ++n) {
    uint8_t bytes[15] = {};
    const uint64_t start = end - n;
    if (!diag::read_linear(mem_, image_, view_of(s), start, bytes, n)) continue;
    const std::span<const uint8_t> code(bytes, n);
    if (!plausible_prefixes(bytes, n) || diag::disassemble_one(code, start, mode).size != n) continue;
    ar.rip = start;
    for (const diag::MemoryAccess& a : diag::memory_accesses(code, mode, ar)) {
      if (!(write ? a.write : a.read) || a.len != len) continue;
      const diag::WalkResult w = diag::page_walk(
          mem_, diag::walk_params(image_, s.cr3, a.la, write ? diag::Access::kWrite : diag::Access::kRead, s.cr0, s.cr4));
      if (w.ok() && w.untagged_gpa(image_.shared_bit) == gpa) found = MmioInsn{start, a.la};
    }
  }
  return found;
}

bool PlainMachine::hlt_ve(KvmVcpu& vcpu, uint32_t index, const Emit& emit) {
  kvm_regs regs{};
  checked_ioctl(vcpu.fd(), KVM_GET_REGS, &regs, "KVM_GET_REGS");
  const diag::CpuState s = read_cpu_state(vcpu.fd());
  regs.rip -= 1;  // KVM reports RIP after the 1-byte HLT; the #VE leaves it on the HLT
  if (!diag::idt_gate_present(mem_, image_, view_of(s), s.idtr.base, s.idtr.limit, abi::kVeVector)) {
    emit(::tdsim::tdx::hlt_without_ve_gate(index, regs.rip));
    return false;
  }
  checked_ioctl(vcpu.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS (back to the HLT)");
  ::tdsim::tdx::TdxModule::VeDelivery d;
  {
    std::lock_guard<std::mutex> g(platform_lock_);
    d = platform_.raise_ve(index, ::tdsim::tdx::hlt_instruction_ve());
  }
  inject_ve(vcpu, d);
  return true;
}

}  // namespace tdsim::kvm
