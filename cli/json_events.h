// Events and the run summary as JSON objects for `tdsim run --format json` (one object
// per line; schema in docs/output-formats.md). Addresses and register values are hex
// strings ("0x401000") so 64-bit values survive JSON readers that use doubles.
#pragma once
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "event_printer.h"

namespace tdsim::cli {

nlohmann::json event_to_json(const Event& e);
nlohmann::json summary_to_json(const RunSummary& s);

}  // namespace tdsim::cli
