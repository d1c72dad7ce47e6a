// The EPT violations a TD's guest can cause, on Unicorn. (1) A data access to a shared
// GPA that nothing backs: the engine ends the run with UC_ERR_READ/WRITE_UNMAPPED before
// the instruction changed anything, where a TD's CPU takes an EPT violation that KVM's
// shared-EPT entry turns into a #VE (tdx::shared_gpa_ve). The TD's shared MMIO window
// (TdImage::shared_mmio_*) is where the layout maps such GPAs; its S-bit was folded out
// of the engine's page tables, so the window, not the walked entry, says the GPA is
// shared; for a program's own page tables (ukvm/), which the engine folds as it faults on
// them, the leaves that had the S-bit say it (FoldedSharedLeaves): any shared GPA without
// memory, as KVM's MMIO SPTEs make every such GPA of a TD a #VE. (2) An access to a private page the TD has not accepted (PENDING in the Secure
// EPT): the engine maps that memory fenced (UC_PROT_NONE), so the touch ends the run with
// UC_ERR_*_PROT and the TDX module decides (tdx::TdxModule::pending_access). Accepting a
// page changes nothing on the engine: the first touch of an accepted page opens its whole
// accepted run at once, so a firmware accepting its RAM page by page costs a few
// protection changes, not one per page (each splits the engine's memory regions).
#include <fmt/format.h>

#include <algorithm>
#include <utility>

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
  if (!gpa || !(image_.in_shared_mmio(*gpa) || (folded_leaves_ && folded_leaves_->contains(*gpa))))
    return false;  // a private GPA: the fault stands
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

void Vcpu::fence_pending_pages() {
  reopened_ = {~0ull, ~0ull};
  for (const auto& [begin, end] : tdx_.acceptance().unaccepted_regions()) {
    const std::string call = fmt::format("uc_mem_protect(unaccepted GPA {:#x}..{:#x}, none)", begin, end);
    uc_check(uc_mem_protect(uc_, begin, end - begin, UC_PROT_NONE), call.c_str());
  }
}

bool Vcpu::fenced_page_fault() {
  tdx::GuestAccess access;
  diag::Access walk;
  switch (mem_fault_type_) {
    case UC_MEM_READ_PROT: access = tdx::GuestAccess::kRead, walk = diag::Access::kRead; break;
    case UC_MEM_WRITE_PROT: access = tdx::GuestAccess::kWrite, walk = diag::Access::kWrite; break;
    case UC_MEM_FETCH_PROT: access = tdx::GuestAccess::kFetch, walk = diag::Access::kExec; break;
    default: return false;
  }
  const uint64_t gla = mem_fault_addr_;
  const std::optional<uint64_t> gpa = translate_gva(uc_, mem_, gla, walk);
  if (!gpa) return false;
  const uint64_t page = *gpa & ~0xfffull;
  const auto [open_begin, open_end] = tdx_.acceptance().accepted_run(page);
  const std::optional<tdx::PendingAccess> p = tdx_.pending_access(access, gla, *gpa);
  if (!p && open_begin == open_end) return false;  // not a page of unaccepted memory
  // Where the access was made: a fetch faults at the instruction's own bytes (RIP, or the
  // page an instruction crossing into it continues on); a data access in the block.
  const uint64_t r = rip();
  const std::optional<uint64_t> at =
      access == tdx::GuestAccess::kFetch ? std::optional<uint64_t>(gla - r < 16 ? r : gla)
                                         : faulting_instruction(gla, access == tdx::GuestAccess::kWrite);
  if (!at) {
    // Without the instruction neither a restart nor a #VE is exact: the fault report says
    // what is known (mem_fault_detail_).
    mem_fault_detail_ += fmt::format(" (a page of unaccepted memory, {}; the instruction was not found in the block)",
                                     p ? "still pending" : "accepted");
    return false;
  }
  if (!p) {
    // Accepted since the fence went up: open the accepted run and run the instruction again.
    if (std::exchange(reopened_, {page, *at}) == std::make_pair(page, *at)) return false;
    const std::string call = fmt::format("uc_mem_protect(accepted GPA {:#x}..{:#x}, all)", open_begin, open_end);
    uc_check(uc_mem_protect(uc_, open_begin, open_end - open_begin, UC_PROT_ALL), call.c_str());
    uc_check(uc_reg_write(uc_, UC_X86_REG_RIP, &*at), "uc_reg_write(RIP) to run an instruction again");
    return true;
  }
  if (p->vm_dead) {
    stop_with(FaultEvent{index_, *at, -1, 0, false, p->why});
    return true;
  }
  uint64_t rax = 0;
  uc_check(uc_reg_read(uc_, UC_X86_REG_RAX, &rax), "uc_reg_read(RAX) before a pending-page #VE");
  ve_pending_ = PendingVe{p->ve, *at, rax, fmt::format("an access to pending private GPA {:#x}", *gpa), p->why};
  return true;
}

}  // namespace tdsim::sim
