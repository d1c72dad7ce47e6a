#include "diag/lint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <tuple>

#include "core/cr_rules.h"
#include "core/guest_memory.h"
#include "diag/disasm.h"
#include "diag/guest_view.h"
#include "diag/page_walk.h"
#include "diag/x86_decode.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::diag {

namespace {

constexpr uint64_t kCr4La57Bit = 1ull << 12;

using namespace abi;

class Linter {
 public:
  explicit Linter(const TdImage& image) : image_(image), mem_(image) {}
  std::vector<LintFinding> run();

 private:
  void error(std::string field, std::string msg) {
    out_.push_back({Severity::kError, std::move(field), std::move(msg)});
  }
  void warn(std::string field, std::string msg) {
    out_.push_back({Severity::kWarning, std::move(field), std::move(msg)});
  }
  WalkResult walk(uint64_t gva, Access a, WalkParams* p_out = nullptr) const {
    WalkParams p = walk_params(image_, p_.cr3, gva, a, p_.cr0,
                               // The tables' own depth: a CR4.LA57 that disagrees is one
                               // error of its own (cr4-la57-set / -missing), not one per walk.
                               image_.paging_levels == 5 ? kCr4La57Bit : 0);
    if (p_out) *p_out = p;
    return page_walk(mem_, p);
  }
  // Error unless gva is mapped for `a` (and identity mapped when `identity`); returns ok.
  bool require_mapped(const std::string& field, const char* what, uint64_t gva, Access a,
                      bool identity);

  void control_registers();
  void descriptor_tables();
  void per_vcpu();
  void stub_and_reset_vector();
  void ucall_pool();

  const TdImage& image_;
  GuestMemory mem_;
  TdBootParams p_{};
  std::vector<LintFinding> out_;
};

bool Linter::require_mapped(const std::string& field, const char* what, uint64_t gva, Access a,
                            bool identity) {
  WalkParams p;
  WalkResult w = walk(gva, a, &p);
  if (!w.ok()) {
    error(field, fmt::format("{} {:#x} is not mapped for {}: {}", what, gva, to_string(a),
                             walk_summary(w, p)));
    return false;
  }
  if (identity && w.gpa != gva) {
    error(field, fmt::format("{} {:#x} is mapped to GPA {:#x}, not identity mapped (paging "
                             "turns on while it is in use)", what, gva, w.gpa));
    return false;
  }
  if (!w.backed) {
    error(field, fmt::format("{} {:#x} maps to GPA {:#x}, which is not guest memory", what, gva, w.gpa));
    return false;
  }
  return true;
}

void Linter::control_registers() {
  // CR0 and CR4 as the stub will load them: the same rules (and words) as layout
  // validation, the stub checks and fault explanations (core/cr_rules.h).
  for (const CrBreak& b : check_boot_registers(p_.cr0, p_.cr4, image_.paging_levels)) error(std::string(b.rule->field), b.message);
  if (!(p_.cr4 & kCr4Osfxsr))
    warn("boot_params.cr4", "CR4.OSFXSR clear: SSE instructions in guest code will raise #UD");
  if (p_.cr3 == 0) error("boot_params.cr3", "CR3 is 0");
  if (p_.cr3 & 0xfff) warn("boot_params.cr3", fmt::format("CR3 {:#x} has flag bits 11:0 set", p_.cr3));
  const Region* r = image_.region_at(p_.cr3 & ~0xfffu);
  if (!r)
    error("boot_params.cr3", fmt::format("CR3 {:#x} is outside guest memory", p_.cr3));
  else if (r->kind != RegionKind::kPageTables)
    error("boot_params.cr3", fmt::format("CR3 {:#x} points into region '{}' ({}), not the page tables",
                                         p_.cr3, r->name, to_string(r->kind)));
}

void Linter::descriptor_tables() {
  // Copies: the DTR fields are packed and cannot bind to references.
  const uint64_t gdt_base = p_.gdtr.base, idt_base = p_.idtr.base;
  const uint16_t gdt_limit = p_.gdtr.limit, idt_limit = p_.idtr.limit;
  for (auto [name, base, limit] : {std::tuple{"gdtr", gdt_base, gdt_limit},
                                   std::tuple{"idtr", idt_base, idt_limit}}) {
    std::string field = fmt::format("boot_params.{}", name);
    if (base == 0) error(field, "base is 0");
    std::vector<uint8_t> table(size_t(limit) + 1);
    if (!mem_.read(base, table.data(), table.size()))
      error(field, fmt::format("[{:#x}, {:#x}] is not all guest memory", base, base + limit));
    // After paging is on, descriptor loads and exception delivery use linear addresses.
    require_mapped(field, "table base", base, Access::kRead, false);
  }
  if (idt_limit == 0) warn("boot_params.idtr", "no IDT (limit 0): any exception becomes a triple fault");
  if (gdt_limit < kKernelCs + 7) {
    error("boot_params.gdtr",
          fmt::format("GDT limit {:#x} does not cover selector 0x08 (KERNEL_CS)", gdt_limit));
    return;
  }
  uint64_t raw = 0;
  if (!mem_.read(gdt_base + kKernelCs, &raw, 8)) {
    error("gdt[1]", fmt::format("GDT entry 0x08 at {:#x} is not guest memory", gdt_base + kKernelCs));
    return;
  }
  Descriptor d = decode_descriptor(raw);
  if (!d.is_64bit_code())
    error("gdt[1]", fmt::format("GDT has no 64-bit code segment at 0x08 ({}): {}",
                                !d.present() ? "not present" : !d.code() ? "not code" : "needs L=1 D=0",
                                describe_descriptor(d)));
}

void Linter::per_vcpu() {
  const Region* params = image_.region_at(kTdBootParamsGpa);
  uint64_t need = kTdPerVcpuOffset + uint64_t(image_.nr_vcpus) * sizeof(TdPerVcpuParams);
  if (params && kTdBootParamsGpa + need > params->end())
    error("boot_params.per_vcpu", fmt::format("{} entries need {:#x} bytes; the params region '{}' "
                                              "holds {:#x}", image_.nr_vcpus, need, params->name,
                                              params->end() - kTdBootParamsGpa));
  if (image_.per_vcpu.size() != image_.nr_vcpus)
    warn("per_vcpu", fmt::format("TdImage has {} per-vCPU copies for nr_vcpus {}",
                                 image_.per_vcpu.size(), image_.nr_vcpus));
  for (uint32_t i = 0; i < image_.nr_vcpus; ++i) {
    std::optional<TdPerVcpuParams> v = read_per_vcpu(mem_, i);
    std::string f = fmt::format("boot_params.per_vcpu[{}]", i);
    if (!v) {
      error(f, fmt::format("entry at {:#x} is not guest memory", per_vcpu_gpa(i)));
      continue;
    }
    // The first access to the stack is the guest prologue's push, at esp_gva - 8.
    if (v->esp_gva == 0) error(f + ".esp_gva", "stack top is 0");
    else if ((uint64_t(v->esp_gva) + 8) % 16)
      warn(f + ".esp_gva", fmt::format("{:#x}: (RSP+8) % 16 != 0 at guest entry (SysV ABI "
                                       "expects a CALL-like alignment)", v->esp_gva));
    if (v->esp_gva && require_mapped(f + ".esp_gva", "stack", uint64_t(v->esp_gva) - 8, Access::kWrite, false)) {
      WalkResult w = walk(v->esp_gva - 8, Access::kWrite);
      if (w.shared) warn(f + ".esp_gva", "stack is in shared (host-visible) memory");
    }
    if (v->guest_code == 0) {
      error(f + ".guest_code", "entry point is 0");
    } else if (require_mapped(f + ".guest_code", "guest_code", v->guest_code, Access::kExec, false)) {
      if (walk(v->guest_code, Access::kExec).shared)
        error(f + ".guest_code", "guest_code is in shared memory: TDX does not fetch code from shared GPAs");
    }
    if (image_.guest_entry && v->guest_code != image_.guest_entry)
      warn(f + ".guest_code", fmt::format("{:#x} differs from the ELF entry {:#x}", v->guest_code,
                                          image_.guest_entry));
  }
}

void Linter::stub_and_reset_vector() {
  const uint64_t stub = image_.stub_gpa, size = image_.stub_size;
  if (size + 2 > 128)
    error("stub", fmt::format("stub is {} bytes: the reset vector's JMP rel8 reaches at most {} "
                              "(stub_size + 2 <= 128)", size, kMaxStubSize));
  if (stub + size != kResetVector)
    error("stub", fmt::format("stub [{:#x}, {:#x}) does not end at the reset vector 0xfffffff0",
                              stub, stub + size));
  for (uint64_t a = stub & ~0xfffull; size && a < stub + size; a += 4096)
    require_mapped("stub", "stub page", std::max(a, stub), Access::kExec, true);
  require_mapped("stub", "reset vector", kResetVector, Access::kExec, true);

  uint8_t rv[3];
  if (!mem_.read(kResetVector, rv, 3)) {
    error("reset_vector", "0xfffffff0 is not guest memory");
    return;
  }
  const uint8_t want_rel8 = uint8_t(256 - 2 - size);
  if (rv[0] != kJmpRel8Opcode)
    error("reset_vector", fmt::format("byte 0 is {:#04x}, not EB (JMP rel8)", rv[0]));
  else if (uint64_t land = kResetVector + 2 + int8_t(rv[1]); land != stub)
    error("reset_vector", fmt::format("JMP rel8 {:#04x} lands on {:#x}, not the stub at {:#x} (rel8 "
                                      "should be {:#04x})", rv[1], land, stub, want_rel8));
  if (rv[2] != kInt3Opcode)
    warn("reset_vector", fmt::format("byte 2 is {:#04x}, not CC (INT3 catches a fall-through)", rv[2]));

  // Far jumps in the stub must land on mapped code: they run with paging already on.
  std::vector<uint8_t> code(size);
  if (!size || !mem_.read(stub, code.data(), size)) return;
  for (const Insn& in : disassemble_range(code, stub, CpuMode::k32)) {
    if (in.mnemonic != "ljmp") continue;
    auto colon = in.operands.find(':');
    if (colon == std::string::npos) continue;
    // Only the direct ptr16:32 form ("8:0xffffffed"); indirect far jumps read memory.
    std::string sel_text = in.operands.substr(0, colon), target_text = in.operands.substr(colon + 1);
    char *sel_end = nullptr, *target_end = nullptr;
    uint64_t sel = std::strtoull(sel_text.c_str(), &sel_end, 0);
    uint64_t target = std::strtoull(target_text.c_str(), &target_end, 0);
    if (sel_text.empty() || *sel_end || target_text.empty() || *target_end) continue;
    if (sel != kKernelCs)
      warn("stub", fmt::format("far jump at {:#x} uses selector {:#x}, not KERNEL_CS 0x08", in.addr, sel));
    require_mapped("stub", "far jump target", target, Access::kExec, false);
  }
}

void Linter::ucall_pool() {
  if (!image_.ucall_pool_gpa) return;
  WalkParams p;
  WalkResult w = walk(image_.ucall_pool_gpa, Access::kWrite, &p);
  if (!w.ok()) {
    error("ucall_pool", fmt::format("pool {:#x} is not mapped: {}", image_.ucall_pool_gpa, walk_summary(w, p)));
    return;
  }
  if (image_.shared_bit && !w.shared)
    error("ucall_pool", fmt::format("pool {:#x}: leaf PTE lacks the shared bit {:#x}; the host "
                                    "cannot read private memory", image_.ucall_pool_gpa, image_.shared_bit));
  if (w.untagged_gpa(image_.shared_bit) != image_.ucall_pool_gpa)
    error("ucall_pool", fmt::format("pool GVA {:#x} maps to GPA {:#x}, not identity", image_.ucall_pool_gpa,
                                    w.gpa));
}

std::vector<LintFinding> Linter::run() {
  std::optional<TdBootParams> params = read_boot_params(mem_);
  if (!params) {
    error("boot_params", "no guest memory at 0xffff0000");
    stub_and_reset_vector();
    return out_;
  }
  p_ = *params;
  if (std::memcmp(&p_, &image_.boot, sizeof p_) != 0)
    warn("boot_params", "the params page differs from TdImage.boot (image changed after build_image?); "
                        "checking the page");
  control_registers();
  descriptor_tables();
  require_mapped("boot_params", "params page", kTdBootParamsGpa, Access::kRead, true);
  per_vcpu();
  stub_and_reset_vector();
  ucall_pool();
  return out_;
}

}  // namespace

std::vector<LintFinding> lint_image(const TdImage& image) { return Linter(image).run(); }

std::string format_finding(const LintFinding& f) {
  return fmt::format("{}: {}: {}", f.severity == Severity::kError ? "error" : "warning", f.field, f.message);
}

size_t count_errors(const std::vector<LintFinding>& findings) {
  size_t n = 0;
  for (const LintFinding& f : findings) n += f.severity == Severity::kError;
  return n;
}

}  // namespace tdsim::diag
