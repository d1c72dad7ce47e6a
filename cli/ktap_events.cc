#include "ktap_events.h"

#include <fmt/format.h>

namespace tdsim::cli {

namespace {

// KTAP descriptions end at '#' (directive) and newline.
std::string sanitize(std::string s) {
  for (char& c : s)
    if (c == '#' || c == '\n') c = ' ';
  return s;
}

}  // namespace

KtapPrinter::KtapPrinter(std::FILE* out, uint32_t nr_vcpus) : out_(out), nr_vcpus_(nr_vcpus) {
  fmt::print(out_, "KTAP version 1\n1..{}\n", nr_vcpus_);
}

void KtapPrinter::event(const Event& e) {
  fmt::print(out_, "# {}\n", sanitize(describe(e)));
  std::fflush(out_);
  if (std::holds_alternative<BudgetExceededEvent>(e)) {
    run_failure_ = describe(e);
    return;
  }
  const auto vcpu = vcpu_of(e);
  if (!vcpu || !is_terminal(e)) return;
  const auto* u = std::get_if<UcallEvent>(&e);
  if (u && u->cmd == abi::kUcallDone)
    done_[*vcpu] = true;
  else if (!failure_.count(*vcpu))
    failure_[*vcpu] = describe(e);
}

void KtapPrinter::summary(const RunSummary& s) {
  for (uint32_t v = 0; v < nr_vcpus_; ++v) {
    std::string why;
    if (failure_.count(v)) why = failure_[v];
    else if (!done_.count(v)) why = run_failure_.empty() ? "ended without UCALL_DONE" : run_failure_;
    if (why.empty())
      fmt::print(out_, "ok {} vcpu{}\n", v + 1, v);
    else
      fmt::print(out_, "not ok {} vcpu{} # {}\n", v + 1, v, sanitize(why));
  }
  fmt::print(out_, "# tdsim: {} on {} after {} events (exit {})\n", to_string(s.outcome), s.backend,
             s.nr_events, exit_code(s.outcome));
}

}  // namespace tdsim::cli
