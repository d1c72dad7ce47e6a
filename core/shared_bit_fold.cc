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

}  // namespace tdsim
