// Events and the run summary as JSON objects for `tdsim run --format json` (one object
// per line: a header, the events, a summary; described in docs/output-formats.md and
// checked against docs/tdsim-events.schema.json). Addresses and register values are hex
// strings ("0x401000") so 64-bit values survive JSON readers that use doubles; strings
// the guest or an ELF supplied are escaped (core/text_escape.h).
#pragma once
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "event_printer.h"

namespace tdsim::cli {

// Bumped whenever a field changes meaning or goes away (adding one does not).
inline constexpr int kJsonSchemaVersion = 1;

nlohmann::json header_json();  // {"type":"header","schema":N}
nlohmann::json event_to_json(const Event& e);
nlohmann::json summary_to_json(const RunSummary& s);

}  // namespace tdsim::cli
