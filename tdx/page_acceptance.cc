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

void PageAcceptance::reset() {
  for (auto& [gpa, r] : ranges_) r.accepted.assign(r.accepted.size(), false);
  accepted_ = 0;
}

}  // namespace tdsim::tdx
