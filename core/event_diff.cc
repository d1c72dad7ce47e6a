#include "event_diff.h"

#include "outcome.h"

namespace tdsim {

namespace {

std::vector<const UcallEvent*> ucalls_of(const std::vector<Event>& events, uint32_t vcpu) {
  std::vector<const UcallEvent*> out;
  for (const Event& e : events)
    if (const auto* u = std::get_if<UcallEvent>(&e); u && u->vcpu == vcpu) out.push_back(u);
  return out;
}

bool same(const UcallEvent& a, const UcallEvent& b) {
  if (a.cmd != b.cmd || a.args != b.args || a.text != b.text) return false;
  if (a.assertion.has_value() != b.assertion.has_value()) return false;
  return !a.assertion || (a.assertion->file == b.assertion->file &&
                          a.assertion->line == b.assertion->line &&
                          a.assertion->expr == b.assertion->expr);
}

// How a vCPU ended, when it was not a ucall: its last fault, halt or memory error.
const Event* end_of(const std::vector<Event>& events, uint32_t vcpu) {
  const Event* end = nullptr;
  for (const Event& e : events) {
    if (vcpu_of(e) != vcpu || std::holds_alternative<UcallEvent>(e)) continue;
    if (is_terminal(e)) end = &e;
  }
  return end;
}

bool same_end(const Event* a, const Event* b) {
  if (!a || !b) return a == b;
  if (a->index() != b->index()) return false;
  if (const auto* fa = std::get_if<FaultEvent>(a)) {
    const auto& fb = std::get<FaultEvent>(*b);
    if (fa->triple_fault != fb.triple_fault || fa->rip != fb.rip) return false;
    if (fa->vector >= 0 && fb.vector >= 0 && (fa->vector != fb.vector || fa->error_code != fb.error_code))
      return false;
    return true;
  }
  if (const auto* ha = std::get_if<HaltEvent>(a)) return ha->rip == std::get<HaltEvent>(*b).rip;
  if (const auto* ma = std::get_if<GuestMemoryErrorEvent>(a)) {
    const auto& mb = std::get<GuestMemoryErrorEvent>(*b);
    return ma->gpa == mb.gpa && ma->size == mb.size;
  }
  return true;
}

}  // namespace

std::optional<Divergence> first_divergence(const std::vector<Event>& left,
                                           const std::vector<Event>& right, uint32_t nr_vcpus) {
  for (uint32_t v = 0; v < nr_vcpus; ++v) {
    auto l = ucalls_of(left, v), r = ucalls_of(right, v);
    for (size_t i = 0; i < std::max(l.size(), r.size()); ++i) {
      const bool lh = i < l.size(), rh = i < r.size();
      if (lh && rh && same(*l[i], *r[i])) continue;
      return Divergence{v, i, lh ? describe(*l[i]) : "(nothing)", rh ? describe(*r[i]) : "(nothing)"};
    }
    const Event *le = end_of(left, v), *re = end_of(right, v);
    if (!same_end(le, re))
      return Divergence{v, l.size(), le ? describe(*le) : "(no fault or halt)", re ? describe(*re) : "(no fault or halt)"};
  }
  Outcome lo = classify(left, nr_vcpus), ro = classify(right, nr_vcpus);
  if (lo != ro) return Divergence{std::nullopt, 0, to_string(lo), to_string(ro)};
  return std::nullopt;
}

}  // namespace tdsim
