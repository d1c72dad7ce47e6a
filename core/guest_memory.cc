#include "guest_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace tdsim {

GuestMemory::GuestMemory(const TdImage& image) {
  // Regions that follow each other in GPA (low RAM: stacks, page tables, the guest, the
  // fillers between them) share one host mapping laid out as the GPAs are, so an engine
  // can map such a run as one piece (hosts_contiguous); blocks stay in region order.
  const size_t n = image.regions.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return image.regions[a].gpa < image.regions[b].gpa; });
  std::vector<uint8_t*> hosts(n, nullptr);
  std::vector<std::pair<uint8_t*, uint64_t>> maps;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    uint64_t end = image.regions[order[i]].gpa + image.regions[order[i]].size;
    while (j < n && image.regions[order[j]].gpa == end) end += image.regions[order[j++]].size;
    const uint64_t start = image.regions[order[i]].gpa;
    void* p = mmap(nullptr, end - start, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      for (const auto& [m, len] : maps) munmap(m, len);
      throw std::bad_alloc();
    }
    maps.emplace_back(static_cast<uint8_t*>(p), end - start);
    for (; i < j; ++i) hosts[order[i]] = static_cast<uint8_t*>(p) + (image.regions[order[i]].gpa - start);
  }
  blocks_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const Region& r = image.regions[i];
    blocks_.push_back(Block{&r, r.gpa, r.size, hosts[i]});
    // An empty vector's data() may be null, and memcpy from null is UB even for 0 bytes.
    if (!r.bytes.empty()) std::memcpy(hosts[i], r.bytes.data(), std::min<uint64_t>(r.bytes.size(), r.size));
  }
}

GuestMemory::GuestMemory(const TdImage& image, const std::vector<uint8_t*>& hosts) : owned_(false) {
  if (hosts.size() != image.regions.size())
    throw std::invalid_argument("GuestMemory: one host address per region is needed");
  blocks_.reserve(image.regions.size());
  for (size_t i = 0; i < hosts.size(); ++i) add_external(image.regions[i], hosts[i]);
}

void GuestMemory::rebind(const TdImage& image, const std::vector<uint8_t*>& hosts) {
  if (owned_) throw std::logic_error("GuestMemory: rebind() of memory this object owns");
  if (hosts.size() != image.regions.size())
    throw std::invalid_argument("GuestMemory: one host address per region is needed");
  std::vector<Block> old = std::move(blocks_);
  blocks_.clear();
  try {
    for (size_t i = 0; i < hosts.size(); ++i) add_external(image.regions[i], hosts[i]);
  } catch (...) {
    blocks_ = std::move(old);
    throw;
  }
}

void GuestMemory::add_external(const Region& region, uint8_t* host) {
  if (owned_) throw std::logic_error("GuestMemory: external blocks only in memory built over external blocks");
  if (!host || (reinterpret_cast<uintptr_t>(host) & 0xfff) || (region.gpa & 0xfff) || (region.size & 0xfff) ||
      region.size == 0 || region.gpa + region.size < region.gpa)
    throw std::invalid_argument("GuestMemory: external block not page aligned, empty or wrapping");
  for (const Block& b : blocks_)
    if (region.gpa < b.gpa + b.size && b.gpa < region.gpa + region.size)
      throw std::invalid_argument("GuestMemory: external block overlaps another");
  blocks_.push_back(Block{&region, region.gpa, region.size, host});
}

GuestMemory::~GuestMemory() {
  if (owned_)
    for (const Block& b : blocks_) munmap(b.host, b.size);
  blocks_.clear();
}

void GuestMemory::reset(const TdImage& image) {
  if (!owned_) throw std::logic_error("GuestMemory: reset() of memory someone else owns");
  // MADV_DONTNEED on a private anonymous mapping gives back zero pages: cheap for
  // large, mostly untouched regions, and the mapping (and its address) stays.
  for (size_t i = 0; i < blocks_.size() && i < image.regions.size(); ++i) {
    const Region& r = image.regions[i];
    madvise(blocks_[i].host, blocks_[i].size, MADV_DONTNEED);
    if (!r.bytes.empty())
      std::memcpy(blocks_[i].host, r.bytes.data(), std::min<uint64_t>(r.bytes.size(), r.size));
  }
}

const GuestMemory::Block* GuestMemory::block_at(uint64_t gpa) const {
  for (const Block& b : blocks_)
    if (gpa >= b.gpa && gpa - b.gpa < b.size) return &b;
  return nullptr;
}

uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) const {
  const Block* b = block_at(gpa);
  if (!b || len > b->size - (gpa - b->gpa)) return nullptr;
  return b->host + (gpa - b->gpa);
}

// Calls fn(host, offset_in_range, n) for each piece of [gpa, gpa+len) in block order;
// false, with fn never called, unless the whole range is guest memory.
template <class Fn>
bool GuestMemory::for_each_piece(uint64_t gpa, uint64_t len, Fn fn) const {
  if (len && gpa + len - 1 < gpa) return false;  // wraps past the top of the address space
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t a = gpa, done = 0; done < len;) {
      const Block* b = block_at(a);
      if (!b) return false;
      uint64_t n = std::min(len - done, b->size - (a - b->gpa));
      if (pass == 1) fn(b->host + (a - b->gpa), done, n);
      a += n;
      done += n;
    }
  }
  return true;
}

bool GuestMemory::read(uint64_t gpa, void* dst, uint64_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  // Most reads lie in one block (page-table entries, instruction bytes): one lookup.
  if (const Block* b = block_at(gpa); b && len <= b->size - (gpa - b->gpa)) {
    std::memcpy(out, b->host + (gpa - b->gpa), len);
    return true;
  }
  return for_each_piece(gpa, len, [&](uint8_t* h, uint64_t off, uint64_t n) {
    std::memcpy(out + off, h, n);
  });
}

bool GuestMemory::write(uint64_t gpa, const void* src, uint64_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  return for_each_piece(gpa, len, [&](uint8_t* h, uint64_t off, uint64_t n) {
    std::memcpy(h, in + off, n);
  });
}

GuestMemory::StringStatus GuestMemory::read_string(uint64_t gpa, uint64_t max_len,
                                                   std::string& out) const {
  out.clear();
  for (uint64_t i = 0; i <= max_len; ++i) {
    const Block* b = gpa + i < gpa ? nullptr : block_at(gpa + i);
    if (!b) {
      out.clear();
      return StringStatus::kOutOfRange;
    }
    char c = static_cast<char>(b->host[gpa + i - b->gpa]);
    if (c == '\0') return StringStatus::kOk;
    if (i < max_len) out.push_back(c);
  }
  out.clear();
  return StringStatus::kNoTerminator;
}

}  // namespace tdsim
