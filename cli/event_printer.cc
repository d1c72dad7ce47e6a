#include "event_printer.h"

#include <fmt/format.h>

namespace tdsim::cli {

void print_event(std::FILE* out, const Event& e) {
  fmt::print(out, "{}\n", describe(e));
  std::fflush(out);
}

void print_summary(std::FILE* out, const std::string& backend, Outcome outcome, size_t nr_events) {
  fmt::print(out, "tdsim: {} on {} after {} events (exit {})\n", to_string(outcome), backend,
             nr_events, exit_code(outcome));
}

}  // namespace tdsim::cli
