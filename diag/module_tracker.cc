#include "module_tracker.h"

#include <fmt/format.h>

#include "pe_module.h"

namespace tdsim::diag {

std::optional<std::string> ModuleTracker::at(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                             uint64_t rip) {
  if (rip >= cur_begin_ && rip < cur_end_) return std::nullopt;
  // A module seen before, still the same image?
  if (auto it = modules_.upper_bound(rip); it != modules_.begin()) {
    --it;
    if (rip < it->second.end) {
      if (header_at(mem, image, view, it->first) == it->second.header) {
        cur_begin_ = it->first, cur_end_ = it->second.end;
        return std::nullopt;
      }
      modules_.erase(it);  // unloaded; what is there now is found below
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
  // Drop what the new image covers: those images are gone.
  for (auto it = modules_.lower_bound(m->base); it != modules_.end() && it->first < m->base + m->size;)
    it = modules_.erase(it);
  modules_[m->base] = Known{m->base + m->size, m->name, header_at(mem, image, view, m->base)};
  new_image_ = true;
  cur_begin_ = m->base, cur_end_ = m->base + m->size;
  // Unnamed images are told apart by where they are and how large: one loaded over an
  // unloaded one at the same base is another module entered.
  const std::string key = m->name.empty() ? fmt::format("@{:#x}+{:#x}", m->base, m->size) : m->name;
  if (!entered_.insert(key).second) return std::nullopt;
  return fmt::format("entered {} ({} image at {:#x})", m->name.empty() ? "an unnamed module" : m->name,
                     m->te ? "TE" : "PE", m->base);
}

std::vector<uint8_t> ModuleTracker::header_at(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                              uint64_t base) {
  std::vector<uint8_t> h(kHeaderBytes);
  if (!read_linear(mem, image, view, base, h.data(), h.size())) h.clear();
  return h;
}

}  // namespace tdsim::diag
