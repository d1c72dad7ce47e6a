#include "td_image.h"

namespace tdsim {

Region make_region(std::string name, RegionKind kind, uint64_t gpa, uint64_t size, std::vector<uint8_t> bytes,
                   bool measured, bool shared) {
  Region r;
  r.name = std::move(name);
  r.kind = kind;
  r.gpa = gpa;
  r.size = size;
  r.bytes = std::move(bytes);
  r.measured = measured;
  r.shared = shared;
  return r;
}

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
    case RegionKind::kFirmware: return "firmware";
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
  // A sized symbol (ELF function/object) names only its own bytes; an unsized one (a
  // stub label) names what follows it up to the next symbol, within the same region,
  // so an address past the last function is not reported as "<last+0x3fbfbfc0>".
  const Region* region = region_at(addr);
  const Symbol* best = nullptr;
  for (const Symbol& s : symbols) {
    if (s.addr > addr) continue;
    if (s.size) {
      if (addr - s.addr < s.size) return &s;
      continue;
    }
    if (region_at(s.addr) != region) continue;
    if (!best || s.addr > best->addr) best = &s;
  }
  if (!best) return nullptr;
  // A sized symbol between the label and addr ends the label's reach.
  for (const Symbol& s : symbols)
    if (s.size && s.addr > best->addr && s.addr <= addr) return nullptr;
  return best;
}

}  // namespace tdsim
