#include "td_image.h"

namespace tdsim {

const char* to_string(RegionKind kind) {
  switch (kind) {
    case RegionKind::kRam: return "ram";
    case RegionKind::kPageTables: return "page-tables";
    case RegionKind::kDescriptors: return "gdt-idt";
    case RegionKind::kGuestElf: return "guest-elf";
    case RegionKind::kStack: return "stack";
    case RegionKind::kUcallPool: return "ucall-pool";
    case RegionKind::kBootParams: return "boot-params";
    case RegionKind::kBootStub: return "boot-stub";
  }
  return "?";
}

const Region* TdImage::region_at(uint64_t gpa) const {
  for (const Region& r : regions)
    if (r.contains(gpa)) return &r;
  return nullptr;
}

const Region* TdImage::find(RegionKind kind) const {
  for (const Region& r : regions)
    if (r.kind == kind) return &r;
  return nullptr;
}

const Symbol* TdImage::symbol_for(uint64_t addr) const {
  const Symbol* best = nullptr;
  for (const Symbol& s : symbols) {
    if (s.addr > addr) continue;
    if (s.size && addr < s.addr + s.size) return &s;
    if (!best || s.addr > best->addr) best = &s;
  }
  return best;
}

}  // namespace tdsim
