#include "mrtd_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "core/launch_order.h"

namespace tdsim::measure {

nlohmann::json mrtd_report_json(const TdImage& image, MeasureOrder order) {
  MrtdAccumulator acc;
  feed_image(acc, image, order);
  const uint64_t pages_added = acc.pages_added();
  const uint64_t chunks = acc.chunks_extended();
  Mrtd mrtd = acc.finalize();

  // Regions in the one launch order, so the listing matches what was hashed.
  std::vector<const Region*> added;
  for (const PageAdd& p : launch_page_order(image))
    if (added.empty() || added.back() != p.region) added.push_back(p.region);
  nlohmann::json regions = nlohmann::json::array();
  for (const Region* r : added)
    regions.push_back({{"name", r->name},
                       {"gpa", fmt::format("{:#x}", r->gpa)},
                       {"size", r->size},
                       {"measured", r->measured}});

  return {{"mrtd", mrtd.hex()},
          {"order", to_string(order)},
          {"pages_added", pages_added},
          {"pages_extended", chunks / (kPageSize / kExtendChunk)},
          {"regions", std::move(regions)}};
}

}  // namespace tdsim::measure
