// Guest side: the #VE handler a TD guest installs so that port I/O, CPUID leaves, MSRs,
// HLT and MMIO the TDX module does not let it run work as on a real TD (as Linux's TD
// guest does): TDG.VP.VEINFO.GET says what the CPU refused, the handler asks the VMM with
// TDG.VP.VMCALL<Instruction.IO>, <Instruction.CPUID>, <Instruction.RDMSR/WRMSR>,
// <Instruction.HLT> or <#VE.RequestMMIO>, puts the result where the instruction would
// have, and resumes after it. Anything else is reported unhandled.
#include "ucall/guest/guest.h"
#include "ucall/guest/mmio_decode.h"
#include "ucall/guest/tdx_calls.h"

extern "C" [[noreturn]] void tdsim_report_unhandled(uint64_t vector, uint64_t error_code, uint64_t rip);
extern "C" [[noreturn]] void tdsim_report_unhandled_ve(uint64_t reason, uint64_t rip, uint64_t gpa, uint64_t gla,
                                                       uint64_t qualification);

namespace {

using tdsim::guest::ExRegs;
using tdsim::guest::MmioInsn;
using tdsim::guest::TdcallAll;
using tdsim::guest::VeRecord;

VeRecord g_last_ve;

using tdsim::guest::tdvmcall;
using tdsim::guest::VmcallRegs;

// Instruction.IO: R12 size, R13 direction (0 in, 1 out), R14 port, R15 the value out;
// R11 comes back with the value in. Returns R10 (the VMM's status).
uint64_t vmcall_io(uint32_t size, bool out, uint16_t port, uint64_t value, uint64_t* in_value) {
  const VmcallRegs r = tdvmcall(tdsim::abi::kVmcallIo, size, out ? 1 : 0, port, value);
  *in_value = r.r11;
  return r.r10;
}

// Instruction.CPUID: R12 leaf, R13 sub-leaf in; R12..R15 = EAX, EBX, ECX, EDX out.
uint64_t vmcall_cpuid(ExRegs* regs) {
  const VmcallRegs r =
      tdvmcall(tdsim::abi::kVmcallCpuid, static_cast<uint32_t>(regs->rax), static_cast<uint32_t>(regs->rcx));
  if (r.r10 != tdsim::abi::kVmcallSuccess) return r.r10;
  // CPUID writes the 32-bit registers: the upper halves become 0.
  regs->rax = static_cast<uint32_t>(r.r12);
  regs->rbx = static_cast<uint32_t>(r.r13);
  regs->rcx = static_cast<uint32_t>(r.r14);
  regs->rdx = static_cast<uint32_t>(r.r15);
  return r.r10;
}

// Instruction.RDMSR: R12 the MSR in, R11 its value out. Instruction.WRMSR: R12 the MSR,
// R13 the value.
uint64_t vmcall_msr(ExRegs* regs, bool write) {
  const VmcallRegs r = tdvmcall(write ? tdsim::abi::kVmcallWrmsr : tdsim::abi::kVmcallRdmsr,
                                static_cast<uint32_t>(regs->rcx), (regs->rdx << 32) | static_cast<uint32_t>(regs->rax));
  if (r.r10 == tdsim::abi::kVmcallSuccess && !write) {
    regs->rax = static_cast<uint32_t>(r.r11);
    regs->rdx = r.r11 >> 32;
  }
  return r.r10;
}

// Instruction.HLT: R12 = 1 when the vCPU halted with interrupts blocked (RFLAGS.IF
// clear). KVM halts the vCPU; the host may resume it after the call.
uint64_t vmcall_hlt(const ExRegs* regs) {
  constexpr uint64_t kRflagsIf = 1u << 9;
  return tdvmcall(tdsim::abi::kVmcallHlt, (regs->rflags & kRflagsIf) ? 0 : 1).r10;
}

// A general register in ModRM encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
// R8..R15), where the IDT stub saved it.
uint64_t* reg_slot(ExRegs* r, uint8_t n) {
  uint64_t* const slots[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                               &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};
  return slots[n & 15];
}

uint64_t low_bits(uint64_t v, uint32_t bytes) { return bytes >= 8 ? v : v & ((1ull << (8 * bytes)) - 1); }

// Writes `v` (already `bytes` wide) into a register the way a MOV of that width does: 8
// and 16 bits keep the rest of the register, 32 bits zero-extend.
void write_reg(uint64_t* reg, uint64_t v, uint32_t bytes, bool high_byte) {
  if (high_byte) {
    *reg = (*reg & ~0xff00ull) | (low_bits(v, 1) << 8);
  } else if (bytes >= 4) {
    *reg = low_bits(v, bytes);
  } else {
    const uint64_t mask = (1ull << (8 * bytes)) - 1;
    *reg = (*reg & ~mask) | (v & mask);
  }
}

// #VE.RequestMMIO: R12 size, R13 direction (0 read, 1 write), R14 the GPA (shared bit
// set), R15 the value written; R11 comes back with the value read. Returns R10.
uint64_t vmcall_mmio(uint32_t size, bool write, uint64_t gpa, uint64_t value, uint64_t* read_value) {
  const VmcallRegs r =
      tdvmcall(tdsim::abi::kVmcallRequestMmio, size, write ? tdsim::abi::kMmioWrite : tdsim::abi::kMmioRead, gpa, value);
  *read_value = r.r11;
  return r.r10;
}

// An EPT violation on MMIO: the CPU gives no instruction length, so the instruction is
// decoded here (mmio_decode.h). False for a form the handler does not emulate.
bool emulate_mmio(ExRegs* regs, uint64_t gpa) {
  // Code is mapped and readable in the guest; 15 bytes is the longest instruction.
  const MmioInsn insn = tdsim::guest::decode_mmio_insn(reinterpret_cast<const uint8_t*>(regs->rip), 15);
  if (insn.kind == MmioInsn::kInvalid) return false;
  uint64_t* reg = reg_slot(regs, insn.reg);
  const bool write = insn.kind == MmioInsn::kWrite || insn.kind == MmioInsn::kWriteImm;
  uint64_t value = 0;
  if (insn.kind == MmioInsn::kWrite) value = low_bits(insn.high_byte ? *reg >> 8 : *reg, insn.size);
  if (insn.kind == MmioInsn::kWriteImm) value = low_bits(insn.imm, insn.size);
  uint64_t in = 0;
  if (vmcall_mmio(insn.size, write, gpa, value, &in) != tdsim::abi::kVmcallSuccess) return false;
  in = low_bits(in, insn.size);
  if (insn.kind == MmioInsn::kReadSignExtend) {
    const uint64_t sign = 1ull << (8 * insn.size - 1);
    in = (in ^ sign) - sign;  // sign-extended to 64 bits; write_reg keeps reg_size of it
  }
  if (!write) write_reg(reg, low_bits(in, insn.reg_size), insn.reg_size, insn.high_byte);
  regs->rip += insn.length;
  return true;
}

}  // namespace

extern "C" void tdsim_ve_last(VeRecord* out) { *out = g_last_ve; }

extern "C" void tdsim_ve_handler(ExRegs* regs) {
  TdcallAll info;
  info.rax = tdsim::abi::kTdgVpVeinfoGet;
  tdsim::guest::tdcall_all(info);
  // exit reason, qualification, instruction length: RCX, RDX, R10[31:0]
  if (info.rax != tdsim::abi::kTdxSuccess)
    tdsim_report_unhandled(regs->vector, info.rax, regs->rip);
  const uint32_t reason = static_cast<uint32_t>(info.rcx);
  g_last_ve = VeRecord{info.rcx, info.rdx, info.r8, info.r9, static_cast<uint32_t>(info.r10)};
  if (reason == tdsim::abi::kExitReasonEptViolation) {
    // A private GPA: the guest touched memory it never accepted (the page is PENDING). No
    // access can be made good after the fact (accepting now would zero what the guest
    // believes it wrote), so the runtime reports it with the #VE information and stops,
    // where Linux panics ("Unexpected EPT-violation on private memory").
    if (!(info.r9 & tdsim::guest::shared_bit())) tdsim_report_unhandled_ve(reason, regs->rip, info.r9, info.r8, info.rdx);
    if (!emulate_mmio(regs, info.r9)) tdsim_report_unhandled(regs->vector, reason, regs->rip);
    return;
  }
  if (reason == tdsim::abi::kExitReasonHlt) {
    if (vmcall_hlt(regs) != tdsim::abi::kVmcallSuccess) tdsim_report_unhandled(regs->vector, reason, regs->rip);
    regs->rip += static_cast<uint32_t>(info.r10);
    return;
  }
  if (reason == tdsim::abi::kExitReasonCpuid) {
    if (vmcall_cpuid(regs) != tdsim::abi::kVmcallSuccess) tdsim_report_unhandled(regs->vector, reason, regs->rip);
    regs->rip += static_cast<uint32_t>(info.r10);
    return;
  }
  if (reason == tdsim::abi::kExitReasonRdmsr || reason == tdsim::abi::kExitReasonWrmsr) {
    // A refusal is what the CPU would make a #GP (Linux's TD guest does the same).
    if (vmcall_msr(regs, reason == tdsim::abi::kExitReasonWrmsr) != tdsim::abi::kVmcallSuccess)
      tdsim_report_unhandled(13, reason, regs->rip);
    regs->rip += static_cast<uint32_t>(info.r10);
    return;
  }
  if (reason != tdsim::abi::kExitReasonIoInstruction) tdsim_report_unhandled(regs->vector, reason, regs->rip);
  const uint64_t q = info.rdx;
  const uint32_t size = static_cast<uint32_t>(q & 7) + 1;
  const bool in = q & tdsim::abi::kIoQualIn;
  const uint16_t port = static_cast<uint16_t>(q >> 16);
  const uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
  uint64_t value = 0;
  if (vmcall_io(size, !in, port, regs->rax & mask, &value) != tdsim::abi::kVmcallSuccess)
    tdsim_report_unhandled(regs->vector, q, regs->rip);
  if (in) regs->rax = size == 4 ? (value & mask) : ((regs->rax & ~mask) | (value & mask));  // IN EAX zero-extends
  regs->rip += static_cast<uint32_t>(info.r10);
}
