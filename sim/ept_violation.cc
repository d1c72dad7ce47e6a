// A data access to a shared GPA that nothing backs, on Unicorn: the engine ends the run
// with UC_ERR_READ/WRITE_UNMAPPED before the instruction changed anything, where a TD's
// CPU takes an EPT violation that KVM's shared-EPT entry turns into a #VE (tdx::
// shared_gpa_ve). The TD's shared MMIO window (TdImage::shared_mmio_*) is where the
// layout maps such GPAs; its S-bit was folded out of the engine's page tables, so the
// window, not the walked entry, says the GPA is shared.
#include <fmt/format.h>

#include <algorithm>

#include "diag/memory_access.h"
#include "fault_capture.h"
#include "guest_virtual.h"
#include "uc_error.h"
#include "vcpu.h"

namespace tdsim::sim {

std::optional<uint64_t> Vcpu::faulting_instruction(uint64_t gla, bool write) const {
  // Unicorn leaves RIP at the last value it wrote back (the block's start, or earlier
  // with chained blocks) when an access fails inside a block. The registers are current:
  // the first instruction of the running block whose memory operand, computed with them,
  // is the failed access is the one that made it. (An earlier instruction of the block
  // that changed its own address registers afterwards could match too; none of the MOV
  // forms a #VE handler emulates does.)
  const auto [begin, size] = running_block_;
  if (size == 0) return std::nullopt;
  std::vector<uint8_t> code(size);
  if (!read_gva(uc_, mem_, begin, code.data(), size, diag::Access::kExec)) return std::nullopt;
  const diag::CpuState s = capture_cpu_state(uc_, image_, mem_);
  if (!s.gprs) return std::nullopt;
  diag::AccessRegs regs;
  std::copy(s.gprs->begin(), s.gprs->end(), regs.gpr);
  uc_check(uc_reg_read(uc_, UC_X86_REG_FS_BASE, &regs.fs_base), "uc_reg_read(FS_BASE)");
  uc_check(uc_reg_read(uc_, UC_X86_REG_GS_BASE, &regs.gs_base), "uc_reg_read(GS_BASE)");
  const diag::CpuMode mode = diag::code_mode(s);
  for (uint32_t off = 0; off < size;) {
    const std::span<const uint8_t> rest(code.data() + off, size - off);
    const diag::Insn insn = diag::disassemble_one(rest, begin + off, mode);
    regs.rip = begin + off;
    for (const diag::MemoryAccess& a : diag::memory_accesses(rest, mode, regs))
      if ((write ? a.write : a.read) && gla - a.la < a.len) return begin + off;
    off += insn.size ? insn.size : 1;
  }
  return std::nullopt;
}

bool Vcpu::shared_gpa_ve() {
  if (mem_fault_type_ != UC_MEM_READ_UNMAPPED && mem_fault_type_ != UC_MEM_WRITE_UNMAPPED) return false;
  const bool write = mem_fault_type_ == UC_MEM_WRITE_UNMAPPED;
  const uint64_t gla = mem_fault_addr_;
  const std::optional<uint64_t> gpa =
      translate_gva(uc_, mem_, gla, write ? diag::Access::kWrite : diag::Access::kRead);
  if (!gpa || !image_.in_shared_mmio(*gpa)) return false;  // a private GPA: the fault stands
  const std::optional<uint64_t> at = faulting_instruction(gla, write);
  if (!at) return false;  // the fault report names what is known
  uint64_t rax = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_RAX, &rax), "uc_reg_read(RAX) before an MMIO #VE");
  ve_pending_ = PendingVe{tdx::shared_gpa_ve(write, gla, *gpa | image_.shared_bit), *at, rax,
                          fmt::format("MMIO {} of shared GPA {:#x} (GLA {:#x})", write ? "write" : "read",
                                      *gpa | image_.shared_bit, gla),
                          "an EPT violation on a shared GPA with no memory is a #VE in a TD"};
  return true;
}

}  // namespace tdsim::sim
