#include "diag/fault_rules.h"

#include <fmt/format.h>

#include <optional>
#include <string_view>

#include "core/cr_rules.h"
#include "diag/x86_decode.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::diag {
namespace {

// A rule returns its cause, or nothing when it does not apply.
using Rule = std::optional<FaultCause> (*)(const FaultContext&);

std::string cr_origin(const FaultContext& c, int cr) {
  if (c.cr_target == cr && c.cr_load)
    return fmt::format(" (being loaded from {} by the MOV to CR{} at RIP)", c.cr_load_source, cr);
  return "";
}

// The control-register rules come from core/cr_rules.h: `before` is the CPU as it
// stopped, `after` adds the value the faulting MOV to CRn was loading, so the cause
// reads as the simulator's own stub check does, plus where the value came from.
std::optional<FaultCause> cr_rule_cause(const FaultContext& c, std::string_view id) {
  const CrRule& r = cr_rule(id);
  const CrRegs before{c.cpu.cr0, c.cpu.cr3, c.cpu.cr4, c.cpu.efer};
  const CrRegs after{c.eff_cr0, c.eff_cr3, c.eff_cr4, c.cpu.efer};
  if (!r.broken(before, after)) return {};
  return FaultCause{std::string(r.id), std::string(r.field),
                    r.message(before, after) + (r.mov_cr >= 0 ? cr_origin(c, r.mov_cr) : "")};
}

std::optional<FaultCause> cr4_pae_missing(const FaultContext& c) {
  return cr_rule_cause(c, kRuleCr4PaeMissing);
}
std::optional<FaultCause> efer_lme_clear(const FaultContext& c) {
  return cr_rule_cause(c, kRuleEferLmeClear);
}
std::optional<FaultCause> cr4_fixed_bits(const FaultContext& c) {
  return cr_rule_cause(c, kRuleCr4FixedBits);
}
std::optional<FaultCause> cr0_fixed_bits(const FaultContext& c) {
  return cr_rule_cause(c, kRuleCr0FixedBits);
}

// Whether the page CR3 names reads as a PML4: some entry is present, and every present
// one is a valid PML4E (PS clear, pointing into guest memory). Then a walk failing at
// the top level means the address is not mapped, not that CR3 is wrong. (A GDT or code
// page also has bit 0 set here and there, but not as valid entries.)
bool cr3_page_has_present_entries(const FaultContext& c) {
  uint64_t entries[512] = {};
  if (!c.mem.read(c.eff_cr3 & 0x000ffffffffff000ull, entries, sizeof entries)) return false;
  bool any = false;
  for (uint64_t e : entries) {
    if (!(e & 1)) continue;
    const uint64_t next = e & 0x000ffffffffff000ull & ~c.image.shared_bit;
    uint8_t probe = 0;
    if ((e & 0x80) || !c.mem.read(next, &probe, 1)) return false;
    any = true;
  }
  return any;
}

std::optional<FaultCause> cr3_not_page_tables(const FaultContext& c) {
  if (!c.eff_paging()) return {};
  WalkParams p = c.walk(c.cpu.rip, Access::kExec);
  WalkResult w = page_walk(c.mem, p);
  if (w.ok() || w.fault_level != 4 || cr3_page_has_present_entries(c)) return {};
  const Region* r = c.image.region_at(c.eff_cr3 & ~0xfffull);
  std::string in = r ? fmt::format("; GPA {:#x} is in region '{}' ({})", c.eff_cr3 & ~0xfffull,
                                   r->name, to_string(r->kind))
                     : fmt::format("; GPA {:#x} is outside guest memory", c.eff_cr3 & ~0xfffull);
  return FaultCause{"cr3-not-page-tables", "boot_params.cr3",
                    fmt::format("CR3 {:#x} does not point at page tables (page walk of RIP {:#x} "
                                "fails at PML4: {}){}{}",
                                c.eff_cr3, c.cpu.rip, walk_summary(w, p), in, cr_origin(c, 3))};
}

bool rip_is_guest_code(const FaultContext& c) {
  return c.vcpu_params && c.vcpu_params->guest_code == c.cpu.rip;
}

std::optional<FaultCause> guest_returned(const FaultContext& c) {
  if (c.cpu.rip != 0) return {};
  // A RET out of guest_code pops the (absent) return address at esp_gva: RSP is then
  // esp_gva + 8. Any other RSP means RIP 0 came from a jump or call through a null
  // pointer, which is not the same mistake.
  if (c.vcpu_params && c.cpu.rsp == c.vcpu_params->esp_gva + 8)
    return FaultCause{"guest-code-returned", "guest_code",
                      "RIP 0: guest_code returned (RSP is esp_gva + 8, the RET's pop); td_boot enters it "
                      "by JMP with no return address, so it must end with a ucall (GUEST_DONE) and never "
                      "return"};
  return FaultCause{"rip-null", "code",
                    fmt::format("RIP 0: a jump or call through a null pointer (RSP {:#x} is not "
                                "esp_gva + 8{}, so nothing returned from guest_code)",
                                c.cpu.rsp,
                                c.vcpu_params ? fmt::format(" = {:#x}", c.vcpu_params->esp_gva + 8) : "")};
}

std::optional<FaultCause> rip_unmapped(const FaultContext& c) {
  if (!c.eff_paging() || c.cpu.rip == 0 || rip_is_guest_code(c)) return {};
  WalkParams p = c.walk(c.cpu.rip, Access::kExec);
  WalkResult w = page_walk(c.mem, p);
  const Region* r = c.image.region_at(c.cpu.rip);
  const bool in_boot = r && (r->kind == RegionKind::kBootStub || r->kind == RegionKind::kBootParams);
  const char* field = in_boot ? "stub" : "page_tables";
  if (w.ok()) {
    if (in_boot && w.untagged_gpa(c.image.shared_bit) != c.cpu.rip)
      return FaultCause{"stub-not-identity", field,
                        fmt::format("stub page is not identity mapped: GVA {:#x} -> GPA {:#x}; "
                                    "paging turns on mid-stub, so the stub must map GVA == GPA",
                                    c.cpu.rip, w.gpa)};
    if (w.shared)
      return FaultCause{"fetch-from-shared", "page_tables",
                        fmt::format("code at {:#x} is in shared memory (its leaf carries the "
                                    "shared bit): TDX does not let a TD fetch instructions from "
                                    "shared GPAs",
                                    c.cpu.rip)};
    return {};
  }
  if (w.fault_level == 4 && w.verdict != WalkVerdict::kNoExecute &&
      w.verdict != WalkVerdict::kWriteProtected && !cr3_page_has_present_entries(c))
    return {};  // cr3-not-page-tables says it better
  return FaultCause{"rip-unmapped", field,
                    fmt::format("RIP {:#x} {} is not executable: {}{}", c.cpu.rip,
                                c.where(c.cpu.rip), walk_summary(w, p),
                                in_boot ? "; the stub and params pages must be identity mapped" : "")};
}

std::optional<FaultCause> guest_code_unmapped(const FaultContext& c) {
  if (!c.vcpu_params) return {};
  const uint64_t gc = c.vcpu_params->guest_code;
  const bool involved = c.cpu.rip == gc || (c.is_pf() && c.cpu.cr2 == gc && (c.ev.error_code & 16));
  if (!involved || gc == 0 || !c.eff_paging()) return {};
  WalkParams p = c.walk(gc, Access::kExec);
  WalkResult w = page_walk(c.mem, p);
  if (w.ok()) return {};
  return FaultCause{"guest-code-unmapped", c.vcpu_field("guest_code"),
                    fmt::format("guest_code {:#x} is not mapped executable: {}", gc,
                                walk_summary(w, p))};
}

bool stack_involved(const FaultContext& c) {
  if (c.ev.vector == 12 || c.ev.vector == 8 || c.ev.triple_fault) return true;
  if (!c.is_pf()) return false;
  uint64_t cr2 = c.cpu.cr2, rsp = c.cpu.rsp;
  return cr2 + 4096 >= rsp && cr2 <= rsp + 4096;
}

std::optional<FaultCause> stack_bad(const FaultContext& c) {
  if (!stack_involved(c)) return {};
  const uint64_t rsp = c.cpu.rsp;
  std::string from = c.vcpu_params ? fmt::format(" (esp_gva {:#x})", c.vcpu_params->esp_gva) : "";
  if (c.mode != ExecMode::kLong64 && rsp >= abi::kFourGiB)
    return FaultCause{"stack-above-4g", c.vcpu_field("esp_gva"),
                      fmt::format("stack {:#x} above 4 GiB: the stub loads it with 32-bit code{}",
                                  rsp, from)};
  if (!c.eff_paging()) return {};
  WalkParams p = c.walk(rsp - 8, Access::kWrite);
  WalkResult w = page_walk(c.mem, p);
  if (w.ok() && w.backed) return {};
  // Every walk fails at the top when CR3 is not a PML4: that is cr3-not-page-tables.
  if (!w.ok() && w.fault_level == 4 && !cr3_page_has_present_entries(c)) return {};
  return FaultCause{"stack-unmapped", c.vcpu_field("esp_gva"),
                    fmt::format("stack {:#x} not mapped writable{}: {}", rsp, from,
                                w.ok() ? "GPA not backed by guest memory" : walk_summary(w, p))};
}

std::optional<FaultCause> pf_data_unmapped(const FaultContext& c) {
  if (!c.is_pf() || (c.ev.error_code & 16) || stack_involved(c)) return {};
  Access a = (c.ev.error_code & 2) ? Access::kWrite : Access::kRead;
  WalkParams p = c.walk(c.cpu.cr2, a);
  WalkResult w = page_walk(c.mem, p);
  if (w.ok()) return {};
  return FaultCause{"data-unmapped", "page_tables",
                    fmt::format("{} of GVA {:#x} (CR2) {}: {}", to_string(a), c.cpu.cr2,
                                c.where(c.cpu.cr2), walk_summary(w, p))};
}

std::optional<FaultCause> gdt_no_64bit_cs(const FaultContext& c) {
  const bool far_jump = c.insn && (c.insn->mnemonic == "ljmp" || c.insn->mnemonic == "lcall");
  const bool sel8 = (c.is_gp() || c.ev.vector == 11) && (c.ev.error_code & ~3ull) == abi::kKernelCs;
  // Compatibility mode is normal inside the stub until its far jump; after the jump to
  // KERNEL_CS it means the descriptor there lacks L.
  const bool compat_cs = c.mode == ExecMode::kCompat && (c.cpu.cs.selector & ~7u) == abi::kKernelCs;
  if (!far_jump && !sel8 && !compat_cs) return {};
  const DtrView g = c.cpu.gdtr;
  // The reset GDTR (base 0) while the parameters name another: the stub never loaded
  // a GDT, whatever happens to lie at address 0.
  if (g.base == 0 && g.limit == abi::kTdInitGdtrLimit && c.image.boot.gdtr.base != 0)
    return FaultCause{"gdt-not-loaded", "stub",
                      fmt::format("no GDT loaded: GDTR is still the reset value (base 0, limit {:#x}), so "
                                  "selector 0x08 is read at address 0x8; the stub must LGDT boot_params.gdtr "
                                  "(base {:#x}) before its far jump",
                                  g.limit, c.image.boot.gdtr.base)};
  std::optional<uint64_t> raw =
      read_gdt_entry(c.mem, c.image, c.view, g.base, g.limit, abi::kKernelCs);
  if (uint64_t(abi::kKernelCs) + 7 > g.limit)
    return FaultCause{"gdt-limit", "boot_params.gdtr",
                      fmt::format("GDT limit {:#x} does not cover selector 0x08 (KERNEL_CS)", g.limit)};
  if (!raw)
    return FaultCause{"gdt-unreadable", "boot_params.gdtr",
                      fmt::format("GDT at {:#x} cannot be read at selector 0x08 (base not "
                                  "mapped or outside guest memory)",
                                  g.base)};
  Descriptor d = decode_descriptor(*raw);
  if (d.is_64bit_code()) return {};
  std::string why = !d.present() ? "not present" : !d.code() ? "not a code segment"
                    : d.d() && d.l() ? "L=1 with D=1 is invalid"
                                     : "L=0";
  return FaultCause{"gdt-no-64bit-cs", "gdt[1]",
                    fmt::format("GDT has no 64-bit code segment at 0x08 ({}): {}", why,
                                describe_descriptor(d))};
}

std::optional<FaultCause> no_idt(const FaultContext& c) {
  if (!c.ev.triple_fault && c.ev.vector != 8) return {};
  const DtrView idt = c.cpu.idtr;
  const std::string what =
      c.ev.vector >= 0 && c.ev.vector != 8 ? vector_name(c.ev.vector) : std::string("exception");
  const bool in_stub = c.ev.rip >= c.image.stub_gpa && c.ev.rip < (1ull << 32);
  if (idt.limit == 0 && in_stub && c.image.boot.idtr.limit != 0)
    // The parameters hold an IDT the stub had not loaded yet (the built-in stub loads it
    // in IA-32e mode): not a defect of its own, but why this exception was fatal.
    return FaultCause{"idt-not-loaded", "stub",
                      fmt::format("the stub had not loaded the IDT yet (boot_params.idtr limit {:#x}): the {} "
                                  "became a triple fault",
                                  c.image.boot.idtr.limit, what)};
  if (idt.limit == 0)
    return FaultCause{"no-idt", "boot_params.idtr", fmt::format("no IDT (limit 0): the {} became a triple fault", what)};
  if (c.view.paging) {
    WalkParams p = walk_params(c.image, c.cpu.cr3, idt.base, Access::kRead, c.cpu.cr0, c.cpu.cr4);
    WalkResult w = page_walk(c.mem, p);
    if (!w.ok())
      return FaultCause{"idt-unmapped", "boot_params.idtr",
                        fmt::format("IDT at {:#x} is not mapped ({}): no exception can be "
                                    "delivered, so it became a triple fault",
                                    idt.base, walk_summary(w, p))};
  }
  return {};
}

std::optional<FaultCause> reset_vector_fallthrough(const FaultContext& c) {
  const bool at_reset = c.cpu.rip > abi::kResetVector && c.cpu.rip <= abi::kResetVector + 3;
  if (c.ev.vector != 3 || !at_reset) return {};
  uint8_t b[3] = {};
  c.mem.read(abi::kResetVector, b, 3);
  return FaultCause{"reset-vector-fallthrough", "reset_vector",
                    fmt::format("the INT3 after the reset vector ran: the bytes at 0xfffffff0 "
                                "({:02x} {:02x} {:02x}) did not jump to the stub at {:#x}",
                                b[0], b[1], b[2], c.image.stub_gpa)};
}

constexpr Rule kRules[] = {
    cr4_pae_missing, efer_lme_clear,       cr4_fixed_bits,      cr0_fixed_bits,
    cr3_not_page_tables, guest_returned,   rip_unmapped,        guest_code_unmapped,
    stack_bad,       pf_data_unmapped,     gdt_no_64bit_cs,     no_idt,
    reset_vector_fallthrough,
};

}  // namespace

std::vector<FaultCause> find_causes(const FaultContext& c) {
  std::vector<FaultCause> out;
  for (Rule rule : kRules)
    if (auto cause = rule(c)) {
      // Firmware has no boot parameters and no tdsim stub: the firmware is what to fix.
      if (c.image.tdvf && (cause->field.rfind("boot_params", 0) == 0 || cause->field == "stub"))
        cause->field = "firmware";
      out.push_back(std::move(*cause));
    }
  return out;
}

}  // namespace tdsim::diag
