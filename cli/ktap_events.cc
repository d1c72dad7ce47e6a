#include "ktap_events.h"

#include <fmt/format.h>

#include "core/text_escape.h"

namespace tdsim::cli {

KtapPrinter::KtapPrinter(std::FILE* out, uint32_t nr_vcpus) : out_(out), nr_vcpus_(nr_vcpus) {
  fmt::print(out_, "KTAP version 1\n1..{}\n", nr_vcpus_);
}

void KtapPrinter::event(const Event& e) {
  // event_lines() escapes, so no guest byte can end a diagnostic line early or start a
  // result line of its own.
  for (const std::string& l : event_lines(e)) fmt::print(out_, "# {}\n", l);
  flush_output(out_);
  if (std::holds_alternative<BudgetExceededEvent>(e)) {
    budget_ = escape_text(describe(e));
    return;
  }
  const auto vcpu = vcpu_of(e);
  if (!vcpu || !is_terminal(e)) return;
  const auto* u = std::get_if<UcallEvent>(&e);
  if (u && u->cmd == abi::kUcallDone)
    done_[*vcpu] = true;
  else if (!failure_.count(*vcpu))
    failure_[*vcpu] = escape_text(describe(e));
}

void KtapPrinter::summary(const RunSummary& s) {
  // The plan printed first is always matched: one result line per vCPU, in order.
  for (uint32_t v = 0; v < nr_vcpus_; ++v) {
    if (s.outcome == Outcome::kSkip) {
      fmt::print(out_, "ok {} vcpu{} # SKIP {}\n", v + 1, v, escape_text(s.skip_reason));
    } else if (failure_.count(v)) {
      // Why, as a diagnostic line right before the result (KTAP's place for it).
      fmt::print(out_, "# vcpu{} failed: {}\nnot ok {} vcpu{}\n", v, failure_[v], v + 1, v);
    } else if (done_.count(v)) {
      fmt::print(out_, "ok {} vcpu{}\n", v + 1, v);
    } else if (!budget_.empty()) {
      fmt::print(out_, "not ok {} vcpu{} # TIMEOUT {}\n", v + 1, v, budget_);
    } else {
      fmt::print(out_, "# vcpu{} failed: ended without UCALL_DONE\nnot ok {} vcpu{}\n", v, v + 1, v);
    }
  }
  if (s.outcome == Outcome::kSkip)
    fmt::print(out_, "# tdsim: SKIP on {} (exit {})\n", s.backend, exit_code(s.outcome));
  else
    fmt::print(out_, "# tdsim: {} on {} after {} events (exit {})\n", to_string(s.outcome), s.backend,
               s.nr_events, exit_code(s.outcome));
  flush_output(out_);
}

}  // namespace tdsim::cli
