// The MRTD prediction as a JSON document, for `tdsim measure --format json` and scripts.
// Depends on mrtd.h and nlohmann_json only.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "mrtd.h"

namespace tdsim::measure {

// {"mrtd": "<96 hex>", "order": "kvm-per-page"|"two-pass", "pages_added": N,
//  "pages_extended": M, "regions": [{"name", "gpa": "0x..", "size": bytes, "measured"}...]}
// regions = the private regions with pages handed to the TDX module, in launch order;
// shared regions are never measured and are not listed.
nlohmann::json mrtd_report_json(const TdImage& image,
                                MeasureOrder order = MeasureOrder::kKvmPerPage);

}  // namespace tdsim::measure
