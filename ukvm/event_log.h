// `tdsim exec --format json --output FILE`: the events the TD's vCPUs produce, one JSON
// line each, in the shape `tdsim run --format json` gives them (cli/json_events.h,
// docs/tdsim-events.schema.json). tdsim writes the header before the program starts and
// the summary after it ended; the library appends the event lines in between. The file
// is opened O_APPEND and each line is one write(2), so the lines of forked children and
// of several vCPU threads never interleave within a line.
#pragma once
#include "core/event.h"

namespace tdsim::ukvm {

// Whether the program was started with an event file (TDSIM_KVM_EVENTS).
bool event_log_enabled();
// Appends `e` as one JSON line. A file that cannot be opened or written is reported once
// on stderr; the program runs on (a KVM program has no way to hear of it).
void log_event(const Event& e);

}  // namespace tdsim::ukvm
