#include "launch_order.h"

#include <algorithm>

namespace tdsim {

std::vector<PageAdd> launch_page_order(const TdImage& image) {
  std::vector<const Region*> priv;
  for (const Region& r : image.regions)
    if (!r.shared) priv.push_back(&r);
  std::sort(priv.begin(), priv.end(), [](auto* a, auto* b) { return a->gpa < b->gpa; });
  std::vector<PageAdd> pages;
  for (const Region* r : priv)
    for (uint64_t off = 0; off < r->size; off += 4096) pages.push_back({r->gpa + off, r->measured, r});
  return pages;
}

}  // namespace tdsim
