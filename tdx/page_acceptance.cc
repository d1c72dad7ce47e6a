#include "page_acceptance.h"

namespace tdsim::tdx {

namespace {
constexpr uint64_t kPage = 4096;
}  // namespace

PageAcceptance::PageAcceptance(const TdImage& image) {
  for (const Region& r : image.regions)
    if (r.unaccepted && !r.shared && r.size) ranges_[r.gpa] = Range{r.end(), std::vector<bool>(r.size / kPage, false)};
}

PageAcceptance::Result PageAcceptance::accept(uint64_t gpa, uint32_t level) {
  // Every private page is mapped at 4 KiB (added at launch, or augmented by KVM on the
  // accept's EPT violation): a larger level never matches the mapping.
  if (level != 0) return Result::kSizeMismatch;
  auto it = ranges_.upper_bound(gpa);
  if (it == ranges_.begin()) return Result::kAlreadyAccepted;
  --it;
  if (gpa >= it->second.end) return Result::kAlreadyAccepted;
  auto bit = it->second.accepted[(gpa - it->first) / kPage];
  if (bit) return Result::kAlreadyAccepted;
  bit = true;
  ++accepted_;
  return Result::kAccepted;
}

std::map<uint64_t, PageAcceptance::Range>::const_iterator PageAcceptance::region_of(uint64_t gpa) const {
  auto it = ranges_.upper_bound(gpa);
  if (it == ranges_.begin()) return ranges_.end();
  --it;
  return gpa < it->second.end ? it : ranges_.end();
}

bool PageAcceptance::pending(uint64_t gpa) const {
  const auto it = region_of(gpa);
  return it != ranges_.end() && !it->second.accepted[(gpa - it->first) / kPage];
}

std::pair<uint64_t, uint64_t> PageAcceptance::accepted_run(uint64_t gpa) const {
  const auto it = region_of(gpa);
  if (it == ranges_.end()) return {0, 0};
  const std::vector<bool>& a = it->second.accepted;
  size_t first = (gpa - it->first) / kPage;
  if (!a[first]) return {0, 0};
  size_t last = first;
  while (first > 0 && a[first - 1]) --first;
  while (last + 1 < a.size() && a[last + 1]) ++last;
  return {it->first + first * kPage, it->first + (last + 1) * kPage};
}

std::vector<std::pair<uint64_t, uint64_t>> PageAcceptance::unaccepted_regions() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [gpa, r] : ranges_) out.emplace_back(gpa, r.end);
  return out;
}

void PageAcceptance::reset() {
  for (auto& [gpa, r] : ranges_) r.accepted.assign(r.accepted.size(), false);
  accepted_ = 0;
}

}  // namespace tdsim::tdx
