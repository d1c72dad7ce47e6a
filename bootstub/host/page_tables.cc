#include "bootstub/host/page_tables.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tdsim {
namespace {

unsigned index_at(uint64_t gva, unsigned level) {  // level 5 = PML5, 4 = PML4 ... 1 = PT
  return (gva >> (12 + 9 * (level - 1))) & 511;
}

// Adjacent ranges with the same attributes are joined, so that "one range covers the
// whole 2 MiB block" is exactly "the block is uniform".
std::vector<MapRange> normalise(std::vector<MapRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const MapRange& a, const MapRange& b) { return a.start < b.start; });
  std::vector<MapRange> out;
  for (const MapRange& r : ranges) {
    if (r.start >= r.end) continue;
    if ((r.start | r.end) % kPageSize || r.end > kMaxIdentityGva)
      throw std::invalid_argument("page tables: range not page aligned or not identity-mappable");
    if (!out.empty() && r.start < out.back().end)
      throw std::invalid_argument("page tables: overlapping ranges");
    if (!out.empty() && out.back().end == r.start && out.back().shared == r.shared)
      out.back().end = r.end;
    else
      out.push_back(r);
  }
  return out;
}

}  // namespace

PageTables::PageTables(std::vector<MapRange> ranges, uint64_t shared_bit, uint32_t levels)
    : shared_bit_(shared_bit), levels_(levels) {
  if (levels != 4 && levels != 5) throw std::invalid_argument("page tables: 4 or 5 levels");
  tables_.emplace_back(512);  // PML4 or PML5
  for (const MapRange& r : normalise(std::move(ranges))) {
    uint64_t a = r.start;
    while (a < r.end) {
      const bool large = a % kLargePageSize == 0 && r.end - a >= kLargePageSize;
      const uint64_t size = large ? kLargePageSize : kPageSize;
      map_leaf(a, size, r.shared);
      a += size;
    }
  }
}

uint64_t PageTables::child(uint64_t table, unsigned index) {
  Entry& e = tables_[table][index];
  if (!e.link) {
    tables_.emplace_back(512);
    // tables_ may have reallocated: index again rather than through `e`.
    tables_[table][index] = Entry{tables_.size() - 1, true};
  }
  return tables_[table][index].value;
}

void PageTables::map_leaf(uint64_t gva, uint64_t size, bool shared) {
  const uint64_t pml4 = levels_ == 5 ? child(0, index_at(gva, 5)) : 0;
  const uint64_t pdpt = child(pml4, index_at(gva, 4));
  const uint64_t pd = child(pdpt, index_at(gva, 3));
  const uint64_t target = gva | (shared ? shared_bit_ : 0);
  if (size == kLargePageSize) {
    tables_[pd][index_at(gva, 2)] = Entry{target | kPteLarge | kPteWritable | kPtePresent, false};
    return;
  }
  const uint64_t pt = child(pd, index_at(gva, 2));
  tables_[pt][index_at(gva, 1)] = Entry{target | kPteWritable | kPtePresent, false};
}

std::vector<uint8_t> PageTables::bytes(uint64_t base) const {
  std::vector<uint8_t> out(tables_.size() * kPageSize);
  for (size_t t = 0; t < tables_.size(); ++t)
    for (size_t i = 0; i < 512; ++i) {
      const Entry& e = tables_[t][i];
      // Links are private table pages: never the shared bit.
      const uint64_t v = e.link ? (base + e.value * kPageSize) | kPteWritable | kPtePresent : e.value;
      std::memcpy(out.data() + t * kPageSize + i * 8, &v, 8);
    }
  return out;
}

}  // namespace tdsim
