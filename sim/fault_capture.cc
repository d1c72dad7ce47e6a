#include "fault_capture.h"

#include <fmt/format.h>

#include "diag/code_address.h"
#include "diag/disasm.h"
#include "engine.h"
#include "diag/fault_explainer.h"
#include "diag/guest_view.h"
#include "diag/page_walk.h"
#include "diag/x86_decode.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

namespace {

uint64_t reg(uc_engine* uc, int id) {
  uint64_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

diag::DtrView dtr(uc_engine* uc, int id) {
  uc_x86_mmr m{};
  uc_reg_read(uc, id, &m);
  return {m.base, static_cast<uint16_t>(m.limit)};
}

diag::LinearView view_of(const diag::CpuState& s) {
  return {(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0, s.cr4};
}

diag::SegmentView segment(uc_engine* uc, int id, uint16_t reset_ar, const diag::CpuState& s,
                          const TdImage& image, const GuestMemory& mem) {
  diag::SegmentView v;
  v.selector = static_cast<uint16_t>(reg(uc, id));
  v.limit = 0xffffffff;
  v.attributes = reset_ar;
  if (v.selector == 0) return v;
  if (auto raw = diag::read_gdt_entry(mem, image, view_of(s), s.gdtr.base, s.gdtr.limit, v.selector)) {
    const diag::Descriptor d = diag::decode_descriptor(*raw);
    v.base = d.base, v.limit = d.limit, v.attributes = d.attributes;
  }
  return v;
}

// What the code mode derives from: the control registers, EFER, the GDTR and CS (read
// through the GDT, which the control registers say how to reach).
diag::CpuState mode_state(uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  diag::CpuState s;
  s.cr0 = reg(uc, UC_X86_REG_CR0);
  s.cr3 = reg(uc, UC_X86_REG_CR3);
  s.cr4 = reg(uc, UC_X86_REG_CR4);
  uc_x86_msr efer{0xc0000080u, 0};
  uc_reg_read(uc, UC_X86_REG_MSR, &efer);
  s.efer = efer.value;  // Unicorn 2.1 holds SCE and NXE like a TD
  s.gdtr = dtr(uc, UC_X86_REG_GDTR);
  s.cs = segment(uc, UC_X86_REG_CS, abi::kTdInitCodeAr, s, image, mem);
  return s;
}

}  // namespace

diag::CpuMode capture_code_mode(uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  return diag::code_mode(mode_state(uc, image, mem));
}

diag::CpuState capture_cpu_state(uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  diag::CpuState s = mode_state(uc, image, mem);
  s.rip = reg(uc, UC_X86_REG_RIP);
  s.rsp = reg(uc, UC_X86_REG_RSP);
  s.rflags = reg(uc, UC_X86_REG_RFLAGS);
  s.cr2 = reg(uc, UC_X86_REG_CR2);
  s.idtr = dtr(uc, UC_X86_REG_IDTR);
  s.ds = segment(uc, UC_X86_REG_DS, abi::kTdInitDataAr, s, image, mem);
  s.ss = segment(uc, UC_X86_REG_SS, abi::kTdInitDataAr, s, image, mem);
  static const int kIds[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                               UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                               UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                               UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
  std::array<uint64_t, 16> g{};
  for (int i = 0; i < 16; ++i) g[i] = reg(uc, kIds[i]);
  s.gprs = g;
  return s;
}

void explain_into(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  diag::CpuState s = capture_cpu_state(uc, image, mem);
  if (ev.rip) s.rip = ev.rip;
  ev.explanation = diag::explain_fault(ev, s, image, mem);
}

void refine_unmapped_access(FaultEvent& ev, uc_engine* uc, const TdImage& image,
                            const GuestMemory& mem, uc_mem_type type, uint64_t addr) {
  const diag::CpuState s = capture_cpu_state(uc, image, mem);
  if (!(s.cr0 & abi::kCr0Pg)) return;
  const bool fetch = type == UC_MEM_FETCH_UNMAPPED || type == UC_MEM_FETCH_PROT;
  const bool write = type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT;
  const diag::Access a = fetch ? diag::Access::kExec : write ? diag::Access::kWrite : diag::Access::kRead;
  const diag::WalkParams p = diag::walk_params(image, s.cr3, addr, a, s.cr0, s.cr4);
  const diag::WalkResult w = diag::page_walk(mem, p);
  if (w.ok()) return;  // translated but unbacked: an EPT violation in a TD, not a #PF
  if (w.verdict == diag::WalkVerdict::kNonCanonical) {
    ev.vector = 13;
    ev.error_code = 0;
  } else {
    // #PF error code: P (present-but-denied), W/R, I/D; supervisor (CPL0).
    const bool present = w.verdict == diag::WalkVerdict::kWriteProtected ||
                         w.verdict == diag::WalkVerdict::kNoExecute ||
                         w.verdict == diag::WalkVerdict::kReservedBit;
    ev.vector = 14;
    ev.error_code = (present ? 1 : 0) | (write ? 2 : 0) |
                    (w.verdict == diag::WalkVerdict::kReservedBit ? 8 : 0) | (fetch ? 16 : 0);
    write_cr2(uc, addr);
  }
  ev.detail += fmt::format("; the guest page tables do not map it ({}), so a TD takes {} "
                           "(Unicorn reports unmapped memory instead)",
                           diag::walk_summary(w, p), diag::vector_name(ev.vector));
}

namespace {

// Whether the instruction at `rip` writes the byte at CR2 (the W bit of a #PF error
// code, which Unicorn does not expose). Stack pushes (PUSH, CALL, ENTER, PUSHF) write
// just below RSP; otherwise an Intel-syntax destination operand in memory is written
// unless the instruction only compares or tests it.
bool faulting_insn_writes(uc_engine*, const TdImage& image, const GuestMemory& mem, const diag::CpuState& s,
                          uint64_t rip) {
  uint8_t b[15] = {};
  if (!diag::read_linear(mem, image, view_of(s), rip, b, sizeof b)) return false;
  const diag::Insn insn = diag::disassemble_one(b, rip, diag::code_mode(s));
  if (insn.bad()) return false;
  const std::string& m = insn.mnemonic;
  const bool push = m == "push" || m == "call" || m == "enter" || m.rfind("pushf", 0) == 0;
  if (push && s.cr2 < s.rsp && s.rsp - s.cr2 <= 64) return true;
  const size_t comma = insn.operands.find(',');
  const bool dest_in_memory = insn.operands.substr(0, comma).find('[') != std::string::npos;
  static const char* const kReadOnly[] = {"cmp", "test", "bt", "push", "call", "jmp", "ucomiss", "ucomisd",
                                          "comiss", "comisd", "prefetch", "lgdt", "lidt", "nop"};
  for (const char* r : kReadOnly)
    if (m.rfind(r, 0) == 0) return false;
  return dest_in_memory;
}

}  // namespace

void infer_pf_error_code(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  if (ev.vector != 14) return;
  const diag::CpuState s = capture_cpu_state(uc, image, mem);
  const uint64_t rip = ev.rip ? ev.rip : s.rip;
  const bool fetch = s.cr2 >= rip && s.cr2 - rip < 16;
  const diag::WalkParams p =
      diag::walk_params(image, s.cr3, s.cr2, fetch ? diag::Access::kExec : diag::Access::kRead, s.cr0, s.cr4);
  const diag::WalkResult w = diag::page_walk(mem, p);
  const bool present = w.verdict == diag::WalkVerdict::kNoExecute || w.verdict == diag::WalkVerdict::kReservedBit ||
                       w.verdict == diag::WalkVerdict::kWriteProtected;
  const bool write = !fetch && faulting_insn_writes(uc, image, mem, s, rip);
  ev.error_code = (present ? 1 : 0) | (write ? 2 : 0) | (w.verdict == diag::WalkVerdict::kReservedBit ? 8 : 0) |
                  (fetch ? 16 : 0);
  ev.detail += fmt::format("; tdsim inferred error code {:#x} from the page walk of CR2 and the faulting "
                           "instruction",
                           ev.error_code);
}

void apply_idt_delivery(FaultEvent& ev, uc_engine* uc, const TdImage& image, const GuestMemory& mem) {
  if (ev.vector < 0 || ev.triple_fault) return;
  const diag::CpuState s = capture_cpu_state(uc, image, mem);
  const bool ia32e = s.efer & abi::kEferLma;
  const uint64_t gate_size = ia32e ? 16 : 8;
  auto deliverable = [&](uint64_t v) {
    if (v * gate_size + gate_size - 1 > s.idtr.limit) return false;
    uint64_t lo = 0;
    if (!diag::read_linear(mem, image, view_of(s), s.idtr.base + v * gate_size, &lo, 8)) return false;
    return ((lo >> 47) & 1) != 0;  // gate P bit
  };
  if (deliverable(static_cast<uint64_t>(ev.vector)) || deliverable(8)) return;
  ev.triple_fault = true;
  ev.detail += fmt::format("; IDT base {:#x} limit {:#x} delivers neither {} nor #DF: a CPU "
                           "shuts down (triple fault)",
                           s.idtr.base, s.idtr.limit, diag::vector_name(ev.vector));
}

std::vector<std::string> describe_position(uc_engine* uc, uint32_t vcpu, uint64_t last_executed,
                                           const TdImage& image, const GuestMemory& mem) {
  const diag::CpuState s = capture_cpu_state(uc, image, mem);
  auto where = [&](uint64_t a) { return diag::code_address_name(mem, image, view_of(s), a); };
  auto insn_at = [&](uint64_t a) {
    uint8_t b[15] = {};
    if (!diag::read_linear(mem, image, view_of(s), a, b, sizeof b)) return std::string("(unreadable)");
    return diag::format_insn(diag::disassemble_one(b, a, diag::code_mode(s)));
  };
  std::vector<std::string> out;
  out.push_back(fmt::format("vCPU {} still running at RIP {:#x}{} in {}", vcpu, s.rip, where(s.rip),
                            diag::to_string(diag::effective_mode(s))));
  out.push_back("  next instruction " + insn_at(s.rip));
  if (last_executed != ~0ull && last_executed != s.rip)
    out.push_back(fmt::format("  last executed {:#x}{}: {}", last_executed, where(last_executed),
                              insn_at(last_executed)));
  if (last_executed != ~0ull && last_executed == s.rip)
    out.push_back("  the last instruction executed is the next one again: a loop on itself");
  return out;
}

}  // namespace tdsim::sim
