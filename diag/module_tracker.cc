#include "module_tracker.h"

#include <fmt/format.h>

#include "pe_module.h"

namespace tdsim::diag {

std::optional<std::string> ModuleTracker::at(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                             uint64_t rip) {
  if (rip >= cur_begin_ && rip < cur_end_) return std::nullopt;
  // A module seen before?
  if (auto it = modules_.upper_bound(rip); it != modules_.begin()) {
    --it;
    if (rip < it->second.end) {
      cur_begin_ = it->first, cur_end_ = it->second.end;
      return std::nullopt;
    }
  }
  const uint64_t page = rip & ~0xfffull;
  if (outside_.count(page)) {
    cur_begin_ = page, cur_end_ = page + 0x1000;
    return std::nullopt;
  }
  const std::optional<PeModule> m = find_pe_module(mem, image, view, rip);
  if (!m) {
    outside_.insert(page);
    cur_begin_ = page, cur_end_ = page + 0x1000;
    return std::nullopt;
  }
  modules_[m->base] = Known{m->base + m->size, m->name};
  cur_begin_ = m->base, cur_end_ = m->base + m->size;
  // Unnamed images are told apart by where they are.
  const std::string key = m->name.empty() ? fmt::format("@{:#x}", m->base) : m->name;
  if (!entered_.insert(key).second) return std::nullopt;
  return fmt::format("entered {} ({} image at {:#x})", m->name.empty() ? "an unnamed module" : m->name,
                     m->te ? "TE" : "PE", m->base);
}

}  // namespace tdsim::diag
