// How `tdsim run` shows a run on stdout: one record per event as it arrives, then a
// summary. Text (default; colour only on a terminal and never with NO_COLOR set) or
// JSON lines (docs/output-formats.md). Fault reports and budget positions are printed
// under their event. Knows events and outcomes, not backends.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "core/event.h"
#include "core/outcome.h"

namespace tdsim::cli {

enum class OutputFormat { kText, kJson, kKtap };

// "text" | "json" | "ktap"; throws UsageError naming --format.
OutputFormat parse_format(const std::string& name);

// Colour for `out`: a terminal, and NO_COLOR unset or empty (https://no-color.org).
bool want_colour(std::FILE* out);

struct RunSummary {
  std::string backend;
  Outcome outcome = Outcome::kDone;
  size_t nr_events = 0;
  size_t lint_errors = 0, lint_warnings = 0;
  std::string skip_reason;  // Outcome::kSkip: why the backend cannot run here
};

class EventPrinter {
 public:
  virtual ~EventPrinter() = default;
  virtual void event(const Event& e) = 0;
  virtual void summary(const RunSummary& s) = 0;
};

// nr_vcpus: the KTAP plan (one test case per vCPU).
std::unique_ptr<EventPrinter> make_printer(OutputFormat format, std::FILE* out, bool colour,
                                           uint32_t nr_vcpus);

// fflush(out), throwing std::system_error when the data did not get written (a full
// disk, a closed pipe): output that silently went nowhere must not read as success.
void flush_output(std::FILE* out);

// The text form's lines for one event (no colour): describe() and, indented below it,
// a fault's explanation or a budget event's vCPU positions; each line escaped
// (core/text_escape.h), so none holds a control byte or a line break.
std::vector<std::string> event_lines(const Event& e);

}  // namespace tdsim::cli
