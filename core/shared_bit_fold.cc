#include "shared_bit_fold.h"

#include <algorithm>
#include <cstring>
#include <iterator>

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

void FoldedSharedLeaves::add(uint64_t gpa, uint64_t size) {
  uint64_t begin = gpa, end = gpa + size;
  // Merge with every range it touches, so lookups stay one map search.
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin() && std::prev(it)->second >= begin) --it;
  while (it != ranges_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(begin, end);
}

bool FoldedSharedLeaves::contains(uint64_t gpa) const {
  auto it = ranges_.upper_bound(gpa);
  return it != ranges_.begin() && gpa < std::prev(it)->second;
}

uint64_t fold_shared_bit_on_walk(GuestMemory& mem, uint64_t cr3, uint64_t linear, bool la57, uint64_t shared_bit,
                                 FoldedSharedLeaves* leaves) {
  constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;  // bits 51:12
  constexpr uint64_t kPresent = 1, kLargePage = 1ull << 7;
  uint64_t changed = 0;
  uint64_t table = cr3 & kAddrMask & ~shared_bit;
  for (int level = la57 ? 5 : 4; level >= 1; --level) {
    const uint64_t gpa = table + 8 * ((linear >> (12 + 9 * (level - 1))) & 0x1ff);
    uint64_t e = 0;
    if (!mem.read(gpa, &e, sizeof e) || !(e & kPresent)) break;
    const bool had_bit = (e & shared_bit) != 0;
    if (had_bit) {
      e &= ~shared_bit;
      if (!mem.write(gpa, &e, sizeof e)) break;
      ++changed;
    }
    // A 1 GiB or 2 MiB page ends the walk (PS is reserved at the top levels: no matter).
    const bool leaf = level == 1 || (level <= 3 && (e & kLargePage));
    if (leaf && had_bit && leaves) {
      const uint64_t size = 1ull << (12 + 9 * (level - 1));
      leaves->add(e & kAddrMask & ~(size - 1), size);
    }
    if (leaf) break;
    table = e & kAddrMask;
  }
  return changed;
}

}  // namespace tdsim
