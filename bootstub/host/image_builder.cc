#include "bootstub/host/image_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "bootstub/host/boot_params.h"
#include "bootstub/host/descriptors.h"
#include "bootstub/host/elf_loader.h"
#include "bootstub/host/memory_map.h"
#include "bootstub/host/page_tables.h"
#include "bootstub/host/validate.h"
#include "bootstub/stub/builtin_stub.h"
#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/tdx.h"

namespace tdsim {
namespace {

// Where everything in low RAM goes, before anything is built.
struct Plan {
  uint64_t mem_size = 0;
  uint32_t nr_vcpus = 0;
  uint64_t page_tables_gpa = 0;
  uint64_t page_tables_size = 0;  // known once the tables are built
  uint64_t stacks_gpa = 0;
  uint64_t pool_gpa = 0;
  uint64_t mmio_gpa = 0;
  uint32_t shared_mmio_pages = 0;

  uint64_t shared_mmio_gpa() const { return (mmio_gpa & ~(kPageSize - 1)) + kPageSize; }
  uint64_t descriptors_gpa() const { return page_tables_gpa + page_tables_size; }
  uint64_t guard_gpa(uint32_t i) const { return stacks_gpa + i * kStackStride; }
  uint64_t stack_gpa(uint32_t i) const { return guard_gpa(i) + kPageSize; }
  uint64_t stack_top(uint32_t i) const { return guard_gpa(i) + kStackStride; }
};

// Everything but the page tables and descriptors, whose size depends on the mapping.
std::vector<Allocation> fixed_allocations(const LayoutSpec& spec, const Plan& p, const LoadedElf& elf) {
  std::vector<Allocation> a;
  a.push_back({"null-guard page 0", 0, kPageSize, "", false, false});
  for (const ElfSegment& s : elf.segments) {
    const uint64_t lo = s.vaddr & ~(kPageSize - 1);
    const uint64_t hi = (s.end() + kPageSize - 1) & ~(kPageSize - 1);
    a.push_back({fmt::format("{} segment {} (vaddr {:#x})", spec.guest_elf_name, s.index, s.vaddr), lo, hi - lo, "guest_elf",
                 false, true});
  }
  for (uint32_t i = 0; i < p.nr_vcpus; ++i) {
    a.push_back({fmt::format("stack-guard[{}]", i), p.guard_gpa(i), kPageSize, "stacks_gpa",
                 spec.stacks_gpa.has_value(), false});
    a.push_back({fmt::format("stack[{}]", i), p.stack_gpa(i), kStackPages * kPageSize, "stacks_gpa",
                 spec.stacks_gpa.has_value(), false});
  }
  a.push_back({"ucall-pool", p.pool_gpa, kUcallPoolSize, "ucall_pool_gpa", spec.ucall_pool_gpa.has_value(), false});
  return a;
}

// Low RAM minus page 0 and the stack guards; the pool with the shared bit; the MMIO
// page without it (plain-KVM MOV transport); the params and stub pages.
std::vector<MapRange> mapping(const Plan& p) {
  std::vector<std::pair<uint64_t, uint64_t>> holes = {{0, kPageSize}, {p.pool_gpa, p.pool_gpa + kUcallPoolSize}};
  for (uint32_t i = 0; i < p.nr_vcpus; ++i) holes.push_back({p.guard_gpa(i), p.guard_gpa(i) + kPageSize});
  std::sort(holes.begin(), holes.end());
  std::vector<MapRange> m;
  uint64_t at = 0;
  for (auto [lo, hi] : holes) {
    if (lo > at) m.push_back({at, lo, false});
    at = std::max(at, hi);
  }
  if (at < p.mem_size) m.push_back({at, p.mem_size, false});
  m.push_back({p.pool_gpa, p.pool_gpa + kUcallPoolSize, true});
  const uint64_t mmio_page = p.mmio_gpa & ~(kPageSize - 1);
  m.push_back({mmio_page, mmio_page + kPageSize, false});
  if (p.shared_mmio_pages)
    m.push_back({p.shared_mmio_gpa(), p.shared_mmio_gpa() + p.shared_mmio_pages * kPageSize, true});
  m.push_back({abi::kTdBootParamsGpa, abi::kTdBootParamsGpa + kPageSize, false});
  m.push_back({kStubPageGpa, kStubPageGpa + kPageSize, false});
  return m;
}

// The stub is 32-bit code reading u32 boot parameters: these must be below 4 GiB.
void check_below_4g(uint64_t value, const char* boot_field, const char* spec_field) {
  if (value >= abi::kFourGiB)
    throw LayoutError(spec_field, fmt::format("{} = {:#x} is not below 4 GiB: the 32-bit stub loads it "
                                              "from a u32 boot parameter", boot_field, value));
}

std::optional<uint64_t> idt_stubs_of(const LoadedElf& elf, const std::string& name) {
  const ElfSymbol* s = elf.find_symbol(abi::kIdtStubsSymbol);
  if (!s) return std::nullopt;
  const ElfSegment* seg = elf.segment_holding(s->addr, 256 * abi::kIdtStubStride);
  if (!seg || !seg->executable)
    throw LayoutError("guest_elf", fmt::format("{}: {} [{:#x}, +{:#x}) (256 stubs) is not inside one "
                                               "executable segment", name, abi::kIdtStubsSymbol, s->addr,
                                               256 * abi::kIdtStubStride));
  return s->addr;
}

// The selftests' sync_global_to_guest: patch the loaded copy of tdsim_guest_config.
void write_guest_config(std::vector<Region>& elf_regs, const LoadedElf& elf, const std::string& name,
                        const abi::GuestConfig& cfg) {
  const ElfSymbol* s = elf.find_symbol(abi::kGuestConfigSymbol);
  if (!s) return;
  if (s->size < sizeof cfg)
    throw LayoutError("guest_elf", fmt::format("{}: {} at {:#x} is {} bytes, smaller than GuestConfig ({})",
                                               name, abi::kGuestConfigSymbol, s->addr, s->size, sizeof cfg));
  if (!elf.segment_holding(s->addr, sizeof cfg))
    throw LayoutError("guest_elf", fmt::format("{}: {} at {:#x} is not inside a PT_LOAD segment", name,
                                               abi::kGuestConfigSymbol, s->addr));
  for (Region& r : elf_regs)
    if (r.contains(s->addr)) std::memcpy(r.bytes.data() + (s->addr - r.gpa), &cfg, sizeof cfg);
}

std::vector<uint8_t> pool_bytes(uint64_t pool_gpa) {
  std::vector<uint8_t> out(sizeof(abi::UcallPool), 0);
  for (size_t i = 0; i < abi::kUcallPoolSlots; ++i) {
    const uint64_t off = offsetof(abi::UcallPool, slots) + i * sizeof(abi::Ucall);
    const uint64_t self = pool_gpa + off;  // identity mapped: the slot's GVA == its GPA
    std::memcpy(out.data() + off + offsetof(abi::Ucall, self), &self, 8);
  }
  return out;
}

std::vector<Symbol> collect_symbols(const LayoutSpec& spec, const LoadedElf& elf, bool builtin, uint64_t stub_gpa,
                                    uint64_t stub_size) {
  std::vector<Symbol> out;
  for (const ElfSymbol& s : elf.symbols)
    if (s.func_or_object) out.push_back({s.name, s.addr, s.size});
  if (builtin) {
    for (Symbol& s : builtin_stub_symbols(stub_gpa)) out.push_back(std::move(s));
  } else {
    out.push_back({spec.stub_name, stub_gpa, stub_size});
  }
  out.push_back({"reset_vector", abi::kResetVector, abi::kResetVectorSize});
  std::stable_sort(out.begin(), out.end(), [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
  return out;
}

// Everything placed in low RAM, with its contents; fill_low_ram() adds the gaps.
std::vector<Region> low_ram_regions(const LayoutSpec& spec, const Plan& p, const LoadedElf& elf,
                                    const PageTables& tables) {
  const uint64_t shared_bit = abi::shared_bit_for_gpaw(spec.gpaw);
  std::vector<Region> low = elf_regions(elf);
  write_guest_config(low, elf, spec.guest_elf_name,
                     abi::GuestConfig{abi::kGuestConfigMagic, abi::kGuestConfigVersion, spec.nr_vcpus,
                                      p.mmio_gpa | shared_bit, p.pool_gpa, shared_bit, spec.gpaw, 0});
  low.push_back(make_region("null-guard", RegionKind::kRam, 0, kPageSize, {}, false));
  low.push_back(make_region("page-tables", RegionKind::kPageTables, p.page_tables_gpa, p.page_tables_size,
                            tables.bytes(p.page_tables_gpa), true));
  low.push_back(make_region("gdt-idt-tss", RegionKind::kDescriptors, p.descriptors_gpa(), kDescriptorsSize,
                            build_descriptors(p.descriptors_gpa(), idt_stubs_of(elf, spec.guest_elf_name)), true));
  for (uint32_t i = 0; i < p.nr_vcpus; ++i) {
    low.push_back(make_region(fmt::format("stack-guard[{}]", i), RegionKind::kRam, p.guard_gpa(i), kPageSize, {}, false));
    low.push_back(make_region(fmt::format("stack[{}]", i), RegionKind::kStack, p.stack_gpa(i),
                              kStackPages * kPageSize, {}, false));
  }
  low.push_back(make_region("ucall-pool", RegionKind::kUcallPool, p.pool_gpa, kUcallPoolSize, pool_bytes(p.pool_gpa),
                            false, true));
  return low;
}

}  // namespace

TdImage build_image(const LayoutSpec& spec) {
  validate_spec(spec);
  const bool builtin = spec.stub.empty();
  const std::span<const uint8_t> stub = builtin ? builtin_stub() : std::span<const uint8_t>(spec.stub);
  validate_stub_size(stub.size(), builtin ? std::string("built-in stub") : spec.stub_name);
  const LoadedElf elf = load_guest_elf(spec.guest_elf, spec.guest_elf_name);

  Plan p;
  p.mem_size = spec.mem_size;
  p.nr_vcpus = spec.nr_vcpus;
  p.page_tables_gpa = spec.page_tables_gpa.value_or(kDefaultPageTablesGpa);
  p.stacks_gpa = spec.stacks_gpa.value_or(kDefaultStacksGpa);
  p.pool_gpa = spec.ucall_pool_gpa.value_or(kDefaultUcallPoolGpa);
  p.mmio_gpa = spec.ucall_mmio_gpa.value_or(spec.mem_size);
  validate_ucall_mmio_gpa(spec, p.mmio_gpa);
  p.shared_mmio_pages = spec.shared_mmio_pages;
  validate_shared_mmio(spec, p.shared_mmio_gpa());

  check_below_4g(p.page_tables_gpa, "cr3", "page_tables_gpa");
  for (uint32_t i = 0; i < p.nr_vcpus; ++i)
    check_below_4g(p.stack_top(i) - 8, fmt::format("per_vcpu[{}].esp_gva", i).c_str(), "stacks_gpa");
  std::vector<Allocation> allocs = fixed_allocations(spec, p, elf);
  check_placement(allocs, spec.mem_size);

  const uint64_t shared_bit = abi::shared_bit_for_gpaw(spec.gpaw);
  const PageTables tables(mapping(p), shared_bit, spec.paging_levels);
  p.page_tables_size = tables.page_count() * kPageSize;
  check_below_4g(p.descriptors_gpa() + kGdtOffset, "gdtr.base", "page_tables_gpa");
  check_below_4g(p.descriptors_gpa() + kIdtOffset, "idtr.base", "page_tables_gpa");
  const bool moved = spec.page_tables_gpa.has_value();
  allocs.push_back({"page-tables", p.page_tables_gpa, p.page_tables_size, "page_tables_gpa", moved, false});
  allocs.push_back({"gdt-idt-tss", p.descriptors_gpa(), kDescriptorsSize, "page_tables_gpa", moved, false});
  check_placement(allocs, spec.mem_size);

  TdImage img;
  img.gpaw = spec.gpaw;
  img.shared_bit = shared_bit;
  img.nr_vcpus = spec.nr_vcpus;
  img.paging_levels = spec.paging_levels;
  img.init_rcx = spec.init_rcx;
  img.ucall_mmio_gpa = p.mmio_gpa;
  img.ucall_pool_gpa = p.pool_gpa;
  if (p.shared_mmio_pages) {
    img.shared_mmio_gpa = p.shared_mmio_gpa();
    img.shared_mmio_size = uint64_t{p.shared_mmio_pages} * kPageSize;
  }
  img.stub_gpa = stub_gpa_for(stub.size());
  img.stub_size = static_cast<uint32_t>(stub.size());
  img.guest_entry = elf.entry;

  img.boot.cr0 = spec.cr0.value_or(kDefaultCr0);
  img.boot.cr3 = static_cast<uint32_t>(p.page_tables_gpa);
  img.boot.cr4 = spec.cr4.value_or(default_cr4(spec.paging_levels));
  img.boot.gdtr = {kGdtLimit, static_cast<uint32_t>(p.descriptors_gpa() + kGdtOffset)};
  img.boot.idtr = {kIdtLimit, static_cast<uint32_t>(p.descriptors_gpa() + kIdtOffset)};
  for (uint32_t i = 0; i < p.nr_vcpus; ++i)
    img.per_vcpu.push_back({static_cast<uint32_t>(p.stack_top(i) - 8), 0, elf.entry});

  img.regions = fill_low_ram(low_ram_regions(spec, p, elf, tables), spec.mem_size);
  img.regions.push_back(make_region("boot-params", RegionKind::kBootParams, abi::kTdBootParamsGpa, kPageSize,
                                    params_page_bytes(img.boot, img.per_vcpu), true));
  img.regions.push_back(make_region("boot-stub", RegionKind::kBootStub, kStubPageGpa, kPageSize, stub_page_bytes(stub),
                                    true));
  img.symbols = collect_symbols(spec, elf, builtin, img.stub_gpa, stub.size());
  return img;
}

}  // namespace tdsim
