// MRTD of a TdImage: its private pages in core launch_page_order(), as KVM (or old QEMU)
// would hand them to the TDX module.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "core/launch_order.h"
#include "mrtd.h"

namespace tdsim::measure {
namespace {

// KVM_TDX_INIT_MEM_REGION takes whole, page-aligned pages; refuse what it would refuse
// rather than silently measuring something else.
void check_region(const Region& r) {
  if (r.gpa % kPageSize || r.size % kPageSize)
    throw std::invalid_argument(fmt::format(
        "MRTD: private region '{}' [{:#x}, +{:#x}) is not whole 4 KiB pages", r.name, r.gpa,
        r.size));
  if (r.bytes.size() > r.size)
    throw std::invalid_argument(fmt::format(
        "MRTD: region '{}' at {:#x} holds {} initial bytes but is only {:#x} bytes long",
        r.name, r.gpa, r.bytes.size(), r.size));
}

// The page's contents as the image holds them: Region::bytes, then zeros.
void extend_page(MrtdAccumulator& acc, const PageAdd& p) {
  std::array<uint8_t, kPageSize> page{};
  const Region& r = *p.region;
  uint64_t off = p.gpa - r.gpa;
  if (off < r.bytes.size()) {
    uint64_t n = std::min<uint64_t>(kPageSize, r.bytes.size() - off);
    std::copy_n(r.bytes.begin() + off, n, page.begin());
  }
  for (uint64_t c = 0; c < kPageSize; c += kExtendChunk)
    acc.mr_extend(p.gpa + c, std::span<const uint8_t, kExtendChunk>(page.data() + c, kExtendChunk));
}

}  // namespace

const char* to_string(MeasureOrder order) {
  switch (order) {
    case MeasureOrder::kKvmPerPage: return "kvm-per-page";
    case MeasureOrder::kTwoPass: return "two-pass";
  }
  return "?";
}

void feed_image(MrtdAccumulator& acc, const TdImage& image, MeasureOrder order) {
  for (const Region& r : image.regions)
    if (!r.shared) check_region(r);
  std::vector<PageAdd> pages = launch_page_order(image);
  if (order == MeasureOrder::kKvmPerPage) {
    for (const PageAdd& p : pages) {
      acc.page_add(p.gpa);
      if (p.measured) extend_page(acc, p);
    }
    return;
  }
  for (const PageAdd& p : pages) acc.page_add(p.gpa);
  for (const PageAdd& p : pages)
    if (p.measured) extend_page(acc, p);
}

Mrtd predict_mrtd(const TdImage& image, MeasureOrder order) {
  MrtdAccumulator acc;
  feed_image(acc, image, order);
  return acc.finalize();
}

}  // namespace tdsim::measure
