#include "memory_snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tdsim {

namespace {

constexpr uint64_t kPage = 4096;
// /proc/self/pagemap: one 64-bit entry per virtual page; bit 63 present, bit 62 swapped.
constexpr uint64_t kPagePresent = 1ull << 63, kPageSwapped = 1ull << 62;

bool all_zero(const uint8_t* p) {
  static const uint8_t zero[kPage] = {};
  return std::memcmp(p, zero, kPage) == 0;
}

}  // namespace

MemorySnapshot::MemorySnapshot(GuestMemory& mem) {
  const auto& blocks = mem.blocks();
  has_content_.resize(blocks.size());
  for (size_t b = 0; b < blocks.size(); ++b) {
    has_content_[b].assign(blocks[b].size / kPage, false);
    uint64_t zero_from = 0;  // start of the current run of zero pages
    for (uint64_t off = 0; off <= blocks[b].size; off += kPage) {
      const uint8_t* p = blocks[b].host + off;
      if (off < blocks[b].size && all_zero(p)) continue;
      // Reading a zero page (this loop, the TD build's measurement) mapped the kernel's
      // zero page there; dropping the mapping again lets restore() skip it until the
      // guest touches it. Only a hint: were it refused, restore() would compare more.
      if (off > zero_from) madvise(blocks[b].host + zero_from, off - zero_from, MADV_DONTNEED);
      zero_from = off + kPage;
      if (off == blocks[b].size) break;
      has_content_[b][off / kPage] = true;
      pages_.push_back({b, off, bytes_.size() / kPage});
      bytes_.insert(bytes_.end(), p, p + kPage);
    }
  }
  pagemap_ = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

MemorySnapshot::~MemorySnapshot() {
  if (pagemap_ >= 0) close(pagemap_);
}

std::vector<uint64_t> MemorySnapshot::restore(GuestMemory& mem) const {
  std::vector<uint64_t> written;
  const auto& blocks = mem.blocks();
  if (blocks.size() != has_content_.size())
    throw std::logic_error("MemorySnapshot::restore: not the memory the snapshot was taken of");
  for (const Page& pg : pages_) {
    uint8_t* p = blocks[pg.block].host + pg.offset;
    const uint8_t* orig = bytes_.data() + pg.copy * kPage;
    if (std::memcmp(p, orig, kPage) == 0) continue;
    std::memcpy(p, orig, kPage);
    written.push_back(blocks[pg.block].gpa + pg.offset);
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    const GuestMemory::Block& blk = blocks[b];
    const size_t n = blk.size / kPage;
    // Which pages have anything behind them; all of them when the pagemap cannot say.
    bool known = false;
    if (pagemap_ >= 0) {
      entries_.resize(n);
      const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(blk.host) / kPage * sizeof(uint64_t));
      const ssize_t want = static_cast<ssize_t>(n * sizeof(uint64_t));
      known = pread(pagemap_, entries_.data(), static_cast<size_t>(want), at) == want;
    }
    for (size_t i = 0; i < n; ++i) {
      if (has_content_[b][i]) continue;
      if (known && !(entries_[i] & (kPagePresent | kPageSwapped))) continue;
      uint8_t* p = blk.host + i * kPage;
      if (all_zero(p)) continue;
      std::memset(p, 0, kPage);
      written.push_back(blk.gpa + i * kPage);
    }
  }
  std::sort(written.begin(), written.end());
  return written;
}

}  // namespace tdsim
