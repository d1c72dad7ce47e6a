#include "bootstub/host/memory_map.h"

#include <fmt/format.h>

#include <algorithm>

#include "bootstub/host/boot_params.h"
#include "bootstub/host/layout_spec.h"
#include "bootstub/host/page_tables.h"

namespace tdsim {
namespace {

std::string describe(const Allocation& a) { return fmt::format("{} [{:#x}, {:#x})", a.name, a.gpa, a.end()); }

std::string blame(const Allocation& a, const Allocation& b) {
  // The user's explicit choice is the likely mistake; then the ELF, whose link
  // addresses the layout cannot move; else the first one's placement field.
  for (const Allocation* x : {&a, &b})
    if (x->overridden) return x->field;
  for (const Allocation* x : {&a, &b})
    if (x->elf) return "guest_elf";
  return a.field.empty() ? b.field : a.field;
}

}  // namespace

void check_placement(const std::vector<Allocation>& allocs, uint64_t mem_size) {
  const Allocation top[] = {
      {"boot-params", abi::kTdBootParamsGpa, kPageSize, "mem_size"},
      {"boot-stub", kStubPageGpa, kPageSize, "mem_size"},
  };
  for (const Allocation& a : allocs) {
    for (const Allocation& t : top)
      if (a.gpa < t.end() && t.gpa < a.end())
        throw LayoutError(blame(a, a), fmt::format("{} overlaps {}", describe(a), describe(t)));
    if (a.end() > mem_size || a.end() < a.gpa) {
      const bool moved = a.overridden || a.elf;
      throw LayoutError(moved ? blame(a, a) : "mem_size",
                        fmt::format("{} lies outside low RAM [0x0, {:#x}){}", describe(a), mem_size,
                                    moved ? "" : ": mem_size is too small for it"));
    }
  }
  for (size_t i = 0; i < allocs.size(); ++i)
    for (size_t j = i + 1; j < allocs.size(); ++j) {
      const Allocation& a = allocs[i];
      const Allocation& b = allocs[j];
      if (a.elf && b.elf) continue;  // the ELF loader checked their bytes don't overlap
      if (a.gpa < b.end() && b.gpa < a.end())
        throw LayoutError(blame(a, b), fmt::format("{} overlaps {}", describe(a), describe(b)));
    }
}

std::vector<Region> fill_low_ram(std::vector<Region> regions, uint64_t mem_size) {
  std::sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) { return a.gpa < b.gpa; });
  std::vector<Region> out;
  uint64_t at = 0;
  auto filler = [&out](uint64_t lo, uint64_t hi) { out.push_back(make_region("ram", RegionKind::kRam, lo, hi - lo)); };
  for (Region& r : regions) {
    if (r.gpa > at) filler(at, r.gpa);
    at = r.end();
    out.push_back(std::move(r));
  }
  if (at < mem_size) filler(at, mem_size);
  return out;
}

}  // namespace tdsim
