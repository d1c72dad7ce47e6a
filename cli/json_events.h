// Events and the run summary as JSON objects for `tdsim run --format json` (one object
// per line: a header, the events, a summary; described in docs/output-formats.md and
// checked against docs/tdsim-events.schema.json). Addresses, register values and every
// other 64-bit value a guest supplies (a length, an assertion's line) are hex strings
// ("0x401000") so they survive JSON readers that use doubles; counts are numbers.
// Strings the guest or an ELF supplied are escaped (core/text_escape.h).
#pragma once
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "event_printer.h"

namespace tdsim::cli {

// Bumped whenever a field changes meaning or goes away (adding one does not). 2: a
// guest memory error's `size` and an assertion's `line` became hex strings (both are
// guest-supplied 64-bit values).
inline constexpr int kJsonSchemaVersion = 2;

// {"type":"header","schema":N,"version":"<what tdsim --version prints after 'tdsim '>"}
nlohmann::json header_json();
nlohmann::json event_to_json(const Event& e);
nlohmann::json summary_to_json(const RunSummary& s);

}  // namespace tdsim::cli
