#include "diag/fault_explainer.h"

#include <fmt/format.h>

#include "diag/fault_context.h"
#include "diag/code_address.h"
#include "diag/x86_decode.h"
#include "tdsim/abi/td_boot.h"

namespace tdsim::diag {
namespace {

std::string headline(const FaultContext& c) {
  std::string what;
  if (c.ev.triple_fault) {
    what = "triple fault";
    if (c.ev.vector >= 0) what += fmt::format(" (last exception {})", vector_name(c.ev.vector));
  } else {
    what = vector_name(c.ev.vector);
    if (has_error_code(c.ev.vector)) what += fmt::format("({:#x})", c.ev.error_code);
  }
  const std::string sym = code_address_name(c.mem, c.image, c.view, c.cpu.rip);
  return fmt::format("vCPU {}: {} at RIP {:#x}{} in {}", c.ev.vcpu, what, c.cpu.rip, sym,
                     to_string(c.mode));
}

void error_code_lines(const FaultContext& c, std::vector<std::string>& out) {
  if (c.ev.triple_fault || !has_error_code(c.ev.vector)) return;
  if (c.is_pf()) {
    out.push_back(fmt::format("  #PF: CR2 {:#x} {}", c.cpu.cr2, c.where(c.cpu.cr2)));
    out.push_back("  error code " + decode_pf_error(c.ev.error_code));
  } else if (c.ev.vector != 8) {
    out.push_back("  error code " + decode_selector_error(c.ev.error_code));
  }
}

void register_lines(const FaultContext& c, std::vector<std::string>& out) {
  const CpuState& s = c.cpu;
  out.push_back("  registers (diagnostics view; a real TD's are not readable):");
  out.push_back("    CR0  " + decode_cr0(s.cr0));
  out.push_back(fmt::format("    CR3  {:#x}", s.cr3));
  out.push_back("    CR4  " + decode_cr4(s.cr4));
  out.push_back("    EFER " + decode_efer(s.efer));
  out.push_back(fmt::format("    RSP  {:#x}  RFLAGS {:#x}", s.rsp, s.rflags));
  out.push_back(fmt::format("    CS   {:#x} base {:#x} limit {:#x}: {}", s.cs.selector, s.cs.base,
                            s.cs.limit, describe_attributes(s.cs.attributes)));
  out.push_back(fmt::format("    SS   {:#x}  DS {:#x}", s.ss.selector, s.ds.selector));
  out.push_back(fmt::format("    GDTR base {:#x} limit {:#x}; IDTR base {:#x} limit {:#x}",
                            s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit));
}

void gdt_lines(const FaultContext& c, std::vector<std::string>& out) {
  // The CS the stub far-jumps to, and the current CS when it is a different selector.
  uint16_t sels[2] = {abi::kKernelCs, uint16_t(c.cpu.cs.selector & ~7u)};
  for (int i = 0; i < 2; ++i) {
    if (sels[i] == 0 || (i == 1 && sels[1] == sels[0])) continue;
    auto raw = read_gdt_entry(c.mem, c.image, c.view, c.cpu.gdtr.base, c.cpu.gdtr.limit, sels[i]);
    out.push_back(raw ? fmt::format("  GDT[{:#x}] {}", sels[i], describe_descriptor(decode_descriptor(*raw)))
                      : fmt::format("  GDT[{:#x}] unreadable (limit {:#x}, base {:#x})", sels[i],
                                    c.cpu.gdtr.limit, c.cpu.gdtr.base));
  }
}

void walk_lines(const FaultContext& c, std::vector<std::string>& out) {
  auto add = [&](uint64_t gva, Access a) {
    WalkParams p = walk_params(c.image, c.cpu.cr3, gva, a, c.cpu.cr0, c.cpu.cr4);
    for (std::string& l : format_walk(page_walk(c.mem, p), p)) out.push_back("  " + l);
  };
  if (!c.view.paging) {
    out.push_back("  paging off: linear addresses are physical");
    return;
  }
  if (c.is_pf()) {
    Access a = (c.ev.error_code & 16) ? Access::kExec
               : (c.ev.error_code & 2) ? Access::kWrite
                                       : Access::kRead;
    add(c.cpu.cr2, a);
    if (c.cpu.cr2 == c.cpu.rip) return;
  }
  add(c.cpu.rip, Access::kExec);
}

}  // namespace

std::vector<FaultCause> fault_causes(const FaultEvent& ev, const CpuState& cpu,
                                     const TdImage& image, const GuestMemory& mem) {
  return find_causes(make_fault_context(ev, cpu, image, mem));
}

std::vector<std::string> explain_fault(const FaultEvent& ev, const CpuState& cpu,
                                       const TdImage& image, const GuestMemory& mem) {
  FaultContext c = make_fault_context(ev, cpu, image, mem);
  std::vector<std::string> out{headline(c)};
  if (c.insn)
    out.push_back("  instruction " + format_insn(*c.insn));
  else
    out.push_back(fmt::format("  instruction at {:#x}: unreadable", cpu.rip));
  std::vector<FaultCause> causes = find_causes(c);
  for (const FaultCause& fc : causes)
    out.push_back(fmt::format("  cause [{}] {}: {}", fc.rule, fc.field, fc.message));
  if (causes.empty()) out.push_back("  cause: no rule matched; see the state below");
  error_code_lines(c, out);
  register_lines(c, out);
  gdt_lines(c, out);
  walk_lines(c, out);
  if (!ev.detail.empty()) out.push_back("  backend: " + ev.detail);
  return out;
}

}  // namespace tdsim::diag
