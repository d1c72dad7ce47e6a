#include "tests/layout/page_walker.h"

#include <cstring>
#include <stdexcept>

namespace tdsim::layouttest {

uint64_t read_u64(const TdImage& image, uint64_t gpa) {
  const Region* r = image.region_at(gpa);
  if (!r) throw std::runtime_error("read_u64: no region at " + std::to_string(gpa));
  uint8_t b[8] = {};
  for (int i = 0; i < 8; ++i) {
    const uint64_t off = gpa + i - r->gpa;
    b[i] = off < r->bytes.size() ? r->bytes[off] : 0;
  }
  uint64_t v;
  std::memcpy(&v, b, 8);
  return v;
}

std::optional<Translation> walk(const TdImage& image, uint64_t gva) {
  constexpr uint64_t kAddr = 0x000ffffffffff000ull;
  uint64_t table = image.boot.cr3 & kAddr;
  for (int level = 4; level >= 1; --level) {
    const Region* r = image.region_at(table);
    if (!r || r->kind != RegionKind::kPageTables)
      throw std::runtime_error("page walk: table outside the page-table region");
    const unsigned idx = (gva >> (12 + 9 * (level - 1))) & 511;
    const uint64_t e = read_u64(image, table + 8 * idx);
    if (!(e & 1)) return std::nullopt;
    const bool large = level > 1 && (e & 0x80);
    if (level == 1 || large) {
      const uint64_t size = 1ull << (12 + 9 * (level - 1));
      Translation t;
      t.leaf = e;
      t.page_size = size;
      t.shared = e & image.shared_bit;
      t.target = (e & kAddr & ~(size - 1)) | (gva & (size - 1));
      return t;
    }
    if (e & image.shared_bit) throw std::runtime_error("page walk: table link carries the shared bit");
    table = e & kAddr;
  }
  return std::nullopt;
}

}  // namespace tdsim::layouttest
