#include "outcome.h"

namespace tdsim {

void OutcomeTracker::add(const Event& e) {
  ++events_;
  if (std::holds_alternative<BudgetExceededEvent>(e)) {
    budget_ = true;
    return;
  }
  if (const auto* u = std::get_if<UcallEvent>(&e)) {
    if (u->cmd == abi::kUcallDone) done_.insert(u->vcpu);
    if (u->cmd == abi::kUcallAbort || u->cmd == abi::kUcallUnhandled) asserted_ = true;
    return;
  }
  if (is_terminal(e)) faulted_ = true;
}

Outcome OutcomeTracker::outcome() const {
  // A budget overrun anywhere in the stream decides the outcome, whatever came before.
  if (budget_) return Outcome::kBudget;
  if (asserted_) return Outcome::kGuestAssert;
  if (faulted_ || done_.size() != nr_vcpus_) return Outcome::kFault;
  return Outcome::kDone;
}

Outcome classify(const std::vector<Event>& events, uint32_t nr_vcpus) {
  OutcomeTracker t(nr_vcpus);
  for (const Event& e : events) t.add(e);
  return t.outcome();
}

int exit_code(Outcome o) {
  switch (o) {
    case Outcome::kDone: return kExitDone;
    case Outcome::kGuestAssert: return kExitGuestAssert;
    case Outcome::kFault: return kExitFault;
    case Outcome::kBudget: return kExitBudget;
    case Outcome::kSkip: return kExitSkip;
  }
  return kExitFault;
}

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kDone: return "DONE";
    case Outcome::kGuestAssert: return "GUEST_ASSERT";
    case Outcome::kFault: return "FAULT";
    case Outcome::kBudget: return "BUDGET";
    case Outcome::kSkip: return "SKIP";
  }
  return "?";
}

}  // namespace tdsim
