#include "stub_monitor.h"

#include <fmt/format.h>

#include "diag/guest_view.h"
#include "diag/x86_decode.h"
#include "fault_capture.h"
#include "stub_cr_checks.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

uint64_t StubMonitor::begin() const { return image_.stub_gpa; }
uint64_t StubMonitor::end() const { return abi::kFourGiB - 1; }

void StubMonitor::reset() {
  pending_ = Pending::kNone;
  entered_ = false;
}

void StubMonitor::line(const std::string& s) const {
  if (opts_ && opts_->boot && opts_->sink) opts_->sink(fmt::format("vcpu {} boot {}", vcpu_, s));
}

void StubMonitor::flush_pending() {
  if (pending_ == Pending::kNone || !opts_ || !opts_->boot) {
    pending_ = Pending::kNone;
    return;
  }
  const diag::CpuState s = capture_cpu_state(uc_, image_, mem_);
  switch (pending_) {
    case Pending::kGdt: {
      const diag::LinearView v{(s.cr0 & abi::kCr0Pg) != 0, s.cr3, s.cr0, s.cr4};
      auto raw = diag::read_gdt_entry(mem_, image_, v, s.gdtr.base, s.gdtr.limit, abi::kKernelCs);
      line(fmt::format("LGDT: GDTR base {:#x} limit {:#x}; GDT[0x8] {}", s.gdtr.base, s.gdtr.limit,
                       raw ? diag::describe_descriptor(diag::decode_descriptor(*raw)) : "unreadable"));
      break;
    }
    case Pending::kIdt:
      line(fmt::format("LIDT: IDTR base {:#x} limit {:#x}", s.idtr.base, s.idtr.limit));
      break;
    case Pending::kPaging:
      line(fmt::format("paging on: EFER {}: {}", diag::decode_efer(s.efer),
                       (s.efer & abi::kEferLma) ? "IA-32e mode active (compatibility mode until the far jump)"
                                                : "EFER.LMA=0, this is not IA-32e mode"));
      break;
    case Pending::kFarJump:
      line(fmt::format("far jump: CS {:#x} ({}) RIP {:#x}: now in {}", s.cs.selector,
                       diag::describe_attributes(s.cs.attributes), s.rip,
                       diag::to_string(diag::effective_mode(s))));
      break;
    case Pending::kNone:
      break;
  }
  pending_ = Pending::kNone;
}

std::optional<FaultEvent> StubMonitor::before(uint64_t addr) {
  flush_pending();
  uint8_t b[15] = {};
  size_t n = sizeof b;
  while (n && !mem_.read(addr, b, n)) --n;  // the stub page is identity mapped
  // Fast path: most stub instructions are not MOV to CR and nothing is traced, so no
  // register is read (0F 22, or REX 0F 22 in 64-bit mode).
  const bool maybe_cr = (n >= 2 && b[0] == 0x0f && b[1] == 0x22) ||
                        (n >= 3 && (b[0] & 0xf0) == 0x40 && b[1] == 0x0f && b[2] == 0x22);
  if (!maybe_cr && !(opts_ && (opts_->coverage || opts_->boot))) return std::nullopt;
  const diag::CpuMode mode = current_mode();
  if (opts_ && opts_->coverage) opts_->coverage->executed.emplace(addr, mode);

  const auto mov = decode_mov_to_cr({b, n}, mode == diag::CpuMode::k64);
  if (mov) {
    // Only what the checks need: this runs at every boot.
    static const int kGprIds[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                                    UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                                    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
    diag::CpuState s;
    uint64_t value = 0;
    uc_reg_read(uc_, kGprIds[mov->gpr], &value);
    uc_reg_read(uc_, UC_X86_REG_CR0, &s.cr0);
    uc_reg_read(uc_, UC_X86_REG_CR3, &s.cr3);
    uc_reg_read(uc_, UC_X86_REG_CR4, &s.cr4);
    uc_x86_msr efer{0xc0000080u, 0};
    uc_reg_read(uc_, UC_X86_REG_MSR, &efer);
    s.efer = efer.value | (abi::kTdInitEfer & ~abi::kEferLme);  // as capture_cpu_state()
    const CrState st{s.cr0, s.cr4, s.efer, mode == diag::CpuMode::k64, image_.gpaw};
    if (auto v = check_cr_write(mov->cr, value, st)) {
      std::string detail = fmt::format(
          "MOV to CR{} at {:#x} raises #GP(0): {} [{}]; Unicorn does not check this, tdsim does",
          mov->cr, addr, v->message, v->rule);
      if (v->tdx_only) detail += " (TDX fixed bit: #GP rather than #VE is not verified on hardware)";
      return FaultEvent{vcpu_, addr, 13, 0, false, std::move(detail)};
    }
    if (!opts_ || !opts_->boot) return std::nullopt;
    const uint64_t shown = mode == diag::CpuMode::k64 ? value : (value & 0xffffffffull);
    const uint64_t old = mov->cr == 0 ? s.cr0 : mov->cr == 3 ? s.cr3 : mov->cr == 4 ? s.cr4 : 0;
    if (mov->cr == 0)
      line(fmt::format("CR0 {:#x} -> {}", old, diag::decode_cr0(shown)));
    else if (mov->cr == 4)
      line(fmt::format("CR4 {:#x} -> {}", old, diag::decode_cr4(shown)));
    else
      line(fmt::format("CR{} {:#x} -> {:#x}", mov->cr, old, shown));
    if (mov->cr == 0 && (shown & abi::kCr0Pg) && !(s.cr0 & abi::kCr0Pg)) pending_ = Pending::kPaging;
    return std::nullopt;
  }
  if (opts_ && opts_->boot) {
    const diag::Insn insn = diag::disassemble_one({b, n}, addr, mode);
    if (insn.mnemonic == "lgdt") pending_ = Pending::kGdt;
    else if (insn.mnemonic == "lidt") pending_ = Pending::kIdt;
    else if (insn.mnemonic == "ljmp" || insn.mnemonic == "lcall") pending_ = Pending::kFarJump;
  }
  return std::nullopt;
}

diag::CpuMode StubMonitor::current_mode() {
  uint64_t cs = 0;
  uc_reg_read(uc_, UC_X86_REG_CS, &cs);
  uc_x86_msr efer{0xc0000080u, 0};
  uc_reg_read(uc_, UC_X86_REG_MSR, &efer);
  const uint64_t key = cs | ((efer.value & abi::kEferLma) << 16);
  if (key != mode_key_) {
    mode_ = diag::code_mode(capture_cpu_state(uc_, image_, mem_));
    mode_key_ = key;
  }
  return mode_;
}

std::string StubMonitor::insn_line(uint64_t addr) {
  const diag::CpuMode mode = current_mode();
  uint8_t b[15] = {};
  size_t n = sizeof b;
  // Code is identity mapped (GVA == GPA) by the layout.
  while (n && !mem_.read(addr, b, n)) --n;
  if (!n) return fmt::format("{:#x}: (unreadable)", addr);
  return diag::format_insn(diag::disassemble_one({b, n}, addr, mode));
}

void StubMonitor::at_guest_entry(uint64_t addr) {
  if (entered_ || !opts_ || !opts_->boot) return;
  flush_pending();
  entered_ = true;
  const diag::CpuState s = capture_cpu_state(uc_, image_, mem_);
  const Symbol* sym = image_.symbol_for(addr);
  line(fmt::format("jump to guest_code {:#x}{} with RSP {:#x} RSI {} in {}", addr,
                   sym && sym->addr == addr ? " <" + sym->name + ">" : std::string(), s.rsp,
                   (*s.gprs)[diag::kRsi], diag::to_string(diag::effective_mode(s))));
}

}  // namespace tdsim::sim
