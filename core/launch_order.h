// The one definition of the order in which a TD's private pages are added at launch
// (TDH.MEM.PAGE.ADD, then TDH.MR.EXTEND of its 16 chunks when measured). The KVM TDX
// launch plan, the TD build of the Unicorn and plain-KVM backends (tdx/td_build.h) and the
// MRTD prediction all walk this list, so they cannot disagree.
#pragma once
#include <cstdint>
#include <vector>

#include "td_image.h"

namespace tdsim {

struct PageAdd {
  uint64_t gpa;        // untagged, 4 KiB aligned
  bool measured;       // followed by MR.EXTEND over 0x000..0xF00
  const Region* region;
};

// Private regions that are added at launch (not `unaccepted`), in the image's add_order
// (ascending GPA where it has none), pages in ascending order within each.
std::vector<PageAdd> launch_page_order(const TdImage& image);

}  // namespace tdsim
