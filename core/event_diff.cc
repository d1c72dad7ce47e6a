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
  }
  Outcome lo = classify(left, nr_vcpus), ro = classify(right, nr_vcpus);
  if (lo != ro) return Divergence{std::nullopt, 0, to_string(lo), to_string(ro)};
  return std::nullopt;
}

}  // namespace tdsim
