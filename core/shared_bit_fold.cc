#include "shared_bit_fold.h"

#include <cstring>

namespace tdsim {

uint64_t fold_shared_bit_in_page_tables(const TdImage& image, GuestMemory& mem) {
  uint64_t changed = 0;
  for (const GuestMemory::Block& b : mem.blocks()) {
    if (b.region->kind != RegionKind::kPageTables) continue;
    for (uint64_t off = 0; off + 8 <= b.size; off += 8) {
      uint64_t pte;
      std::memcpy(&pte, b.host + off, 8);
      if (!(pte & 1) || !(pte & image.shared_bit)) continue;
      pte &= ~image.shared_bit;
      std::memcpy(b.host + off, &pte, 8);
      ++changed;
    }
  }
  return changed;
}

uint64_t fold_shared_bit_on_walk(GuestMemory& mem, uint64_t cr3, uint64_t linear, bool la57, uint64_t shared_bit) {
  constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;  // bits 51:12
  constexpr uint64_t kPresent = 1, kLargePage = 1ull << 7;
  uint64_t changed = 0;
  uint64_t table = cr3 & kAddrMask & ~shared_bit;
  for (int level = la57 ? 5 : 4; level >= 1; --level) {
    const uint64_t gpa = table + 8 * ((linear >> (12 + 9 * (level - 1))) & 0x1ff);
    uint64_t e = 0;
    if (!mem.read(gpa, &e, sizeof e) || !(e & kPresent)) break;
    if (e & shared_bit) {
      e &= ~shared_bit;
      if (!mem.write(gpa, &e, sizeof e)) break;
      ++changed;
    }
    // A 1 GiB or 2 MiB page ends the walk (PS is reserved at the top levels: no matter).
    if (level <= 3 && level >= 2 && (e & kLargePage)) break;
    table = e & kAddrMask;
  }
  return changed;
}

}  // namespace tdsim
