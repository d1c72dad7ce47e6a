// How `tdsim run` shows a run: one line per event as it arrives, then a summary line.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/outcome.h"

namespace tdsim::cli {

void print_event(std::FILE* out, const Event& e);
void print_summary(std::FILE* out, const std::string& backend, Outcome outcome, size_t nr_events);

}  // namespace tdsim::cli
