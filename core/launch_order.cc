#include "launch_order.h"

#include <algorithm>

namespace tdsim {

std::vector<PageAdd> launch_page_order(const TdImage& image) {
  std::vector<const Region*> priv;
  for (const Region& r : image.regions)
    if (!r.shared && !r.unaccepted) priv.push_back(&r);
  // add_order ranks regions by start GPA; regions it does not list come after, by GPA.
  auto rank = [&](const Region* r) {
    const auto it = std::find(image.add_order.begin(), image.add_order.end(), r->gpa);
    return static_cast<size_t>(it - image.add_order.begin());
  };
  std::sort(priv.begin(), priv.end(), [&](auto* a, auto* b) {
    const size_t ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : a->gpa < b->gpa;
  });
  std::vector<PageAdd> pages;
  for (const Region* r : priv)
    for (uint64_t off = 0; off < r->size; off += 4096) pages.push_back({r->gpa + off, r->measured, r});
  return pages;
}

}  // namespace tdsim
