#include "dma_window.h"

#include <fmt/format.h>

#include <algorithm>

namespace tdsim::devices {

void DmaWindow::convert(uint64_t gpa, uint64_t size, bool to_shared) {
  gpa &= ~shared_bit_;
  if (size == 0 || size > ~0ull - gpa) return;  // the VMM refused such a range already
  uint64_t start = gpa, end = gpa + size;
  // Cut [start, end) out of every range it touches, keeping the parts outside it; a shared
  // conversion then merges the neighbours into one range.
  auto it = shared_.upper_bound(start);
  if (it != shared_.begin()) --it;
  while (it != shared_.end() && it->first <= end) {
    const uint64_t s = it->first, e = it->second;
    if (e < start) {
      ++it;
      continue;
    }
    it = shared_.erase(it);
    if (to_shared) {
      start = std::min(start, s);
      end = std::max(end, e);
    } else {
      // Neither part is visited again: one lies below `it`, the other starts at `end`,
      // before any range still ahead (ranges are disjoint).
      if (s < start) shared_[s] = start;
      if (e > end) shared_[end] = e;
    }
  }
  if (to_shared) shared_[start] = end;
}

bool DmaWindow::shared(uint64_t gpa, uint64_t len) const {
  if (len == 0) return true;
  auto it = shared_.upper_bound(gpa);
  if (it == shared_.begin()) return false;
  --it;
  return gpa < it->second && len <= it->second - gpa;
}

std::optional<std::string> DmaWindow::refuse(const GuestMemory* mem, uint64_t gpa, uint64_t len) const {
  if (!mem) return std::string("no guest memory is reachable from this device");
  if (len > ~0ull - gpa) return fmt::format("{:#x} + {:#x} wraps around the address space", gpa, len);
  const GuestMemory::Block* b = mem->block_containing(gpa);
  if (!b) return fmt::format("GPA {:#x} is outside guest memory", gpa);
  // Contiguous blocks may be crossed: ask for every byte, not just the first block.
  if (len && !mem->block_containing(gpa + len - 1))
    return fmt::format("[{:#x}, {:#x}) runs past the end of guest memory", gpa, gpa + len);
  if (!shared(gpa, len))
    return fmt::format("[{:#x}, {:#x}) is private memory (no MapGPA made it shared): the host must not touch it",
                       gpa, gpa + len);
  return std::nullopt;
}

std::optional<std::string> DmaWindow::read(const GuestMemory* mem, uint64_t gpa, void* dst, uint64_t len) const {
  gpa &= ~shared_bit_;
  if (auto why = refuse(mem, gpa, len)) return why;
  if (!mem->read(gpa, dst, len)) return fmt::format("[{:#x}, {:#x}) is not all guest memory", gpa, gpa + len);
  return std::nullopt;
}

std::optional<std::string> DmaWindow::write(GuestMemory* mem, uint64_t gpa, const void* src, uint64_t len) const {
  gpa &= ~shared_bit_;
  if (auto why = refuse(mem, gpa, len)) return why;
  if (!mem->write(gpa, src, len)) return fmt::format("[{:#x}, {:#x}) is not all guest memory", gpa, gpa + len);
  return std::nullopt;
}

}  // namespace tdsim::devices
