// Which private pages of a TD are still pending: the RAM a TDVF firmware's VMM leaves
// unaccepted (Region::unaccepted) until the guest accepts it page by page with
// TDG.MEM.PAGE.ACCEPT. KVM augments such a page at 4 KiB when the guest first touches or
// accepts it (TDH.MEM.PAGE.AUG), so: a 4 KiB accept of a pending page succeeds and the
// module zeroes the page; accepting it again says TDX_PAGE_ALREADY_ACCEPTED (a warning);
// a 2 MiB or 1 GiB accept finds 4 KiB mappings and fails with TDX_PAGE_SIZE_MISMATCH,
// after which the guest accepts the range page by page. Pages added at launch are
// accepted from the start. Engine-free; the TDX module calls it under its own rules
// (tdx_leaves.cc checks the operand first).
#pragma once
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/td_image.h"

namespace tdsim::tdx {

class PageAcceptance {
 public:
  explicit PageAcceptance(const TdImage& image);

  enum class Result { kAccepted, kAlreadyAccepted, kSizeMismatch };
  // TDG.MEM.PAGE.ACCEPT of the `level` (0 4K, 1 2M, 2 1G) page at `gpa`, aligned to it.
  // kAccepted: the caller zeroes the 4 KiB page.
  Result accept(uint64_t gpa, uint32_t level);
  uint64_t accepted_pages() const { return accepted_; }
  // Whether the 4 KiB page holding `gpa` is one the VMM left unaccepted and the guest has
  // not accepted yet: touching it is the EPT violation on a PENDING page.
  bool pending(uint64_t gpa) const;
  // The accepted pages around `gpa` inside its unaccepted region, [begin, end): what a
  // mechanism that fences pending pages may open up at once. Empty when `gpa` is pending
  // or outside every unaccepted region.
  std::pair<uint64_t, uint64_t> accepted_run(uint64_t gpa) const;
  // The regions the VMM left unaccepted, [begin, end) each.
  std::vector<std::pair<uint64_t, uint64_t>> unaccepted_regions() const;
  // Back to the TD's state at launch: every unaccepted page pending again.
  void reset();

 private:
  struct Range {
    uint64_t end;
    std::vector<bool> accepted;  // per 4 KiB page
  };
  std::map<uint64_t, Range> ranges_;  // unaccepted regions by start GPA
  // The region holding `gpa`, or ranges_.end().
  std::map<uint64_t, Range>::const_iterator region_of(uint64_t gpa) const;
  uint64_t accepted_ = 0;
};

}  // namespace tdsim::tdx
