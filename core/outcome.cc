#include "outcome.h"

#include <set>

namespace tdsim {

Outcome classify(const std::vector<Event>& events, uint32_t nr_vcpus) {
  std::set<uint32_t> done;
  bool asserted = false, faulted = false;
  for (const Event& e : events) {
    if (std::holds_alternative<BudgetExceededEvent>(e)) return Outcome::kBudget;
    if (const auto* u = std::get_if<UcallEvent>(&e)) {
      if (u->cmd == abi::kUcallDone) done.insert(u->vcpu);
      if (u->cmd == abi::kUcallAbort || u->cmd == abi::kUcallUnhandled) asserted = true;
      continue;
    }
    if (is_terminal(e)) faulted = true;
  }
  if (asserted) return Outcome::kGuestAssert;
  if (faulted || done.size() != nr_vcpus) return Outcome::kFault;
  return Outcome::kDone;
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
