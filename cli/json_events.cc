#include "json_events.h"

#include <fmt/format.h>

namespace tdsim::cli {

namespace {

using nlohmann::json;

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

json body(const Event& e) {
  return std::visit(
      Overloaded{
          [](const UcallEvent& u) {
            json j{{"type", "ucall"}, {"vcpu", u.vcpu}, {"cmd", ucall_cmd_name(u.cmd)}, {"slot_gpa", hex(u.slot_gpa)}};
            json args = json::array();
            for (uint64_t a : u.args) args.push_back(hex(a));
            j["args"] = args;
            if (!u.text.empty()) j["text"] = u.text;
            if (u.assertion)
              j["assert"] = {{"expr", u.assertion->expr}, {"file", u.assertion->file}, {"line", u.assertion->line}};
            return j;
          },
          [](const MmioEvent& m) {
            return json{{"type", "mmio"},   {"vcpu", m.vcpu},         {"gpa", hex(m.gpa)},
                        {"len", m.len},     {"write", m.is_write},    {"data", hex(m.data)}};
          },
          [](const TdcallRejectedEvent& t) {
            return json{{"type", "tdcall_rejected"}, {"vcpu", t.vcpu},          {"rip", hex(t.rip)},
                        {"leaf", hex(t.leaf)},       {"subfn", hex(t.subfn)},   {"status", hex(t.status)},
                        {"reason", t.reason}};
          },
          [](const GuestMemoryErrorEvent& g) {
            return json{{"type", "guest_memory_error"}, {"vcpu", g.vcpu}, {"gpa", hex(g.gpa)},
                        {"size", g.size},               {"what", g.what}};
          },
          [](const FaultEvent& f) {
            return json{{"type", "fault"},          {"vcpu", f.vcpu},
                        {"rip", hex(f.rip)},        {"vector", f.vector},
                        {"error_code", hex(f.error_code)}, {"triple_fault", f.triple_fault},
                        {"detail", f.detail},       {"explanation", f.explanation}};
          },
          [](const HaltEvent& h) { return json{{"type", "halt"}, {"vcpu", h.vcpu}, {"rip", hex(h.rip)}}; },
          [](const BudgetExceededEvent& b) {
            const bool insns = b.kind == BudgetExceededEvent::Kind::kInstructions;
            return json{{"type", "budget"},
                        {"kind", insns ? "instructions" : "wall_clock"},
                        {"limit", b.limit},
                        {"explanation", b.explanation}};
          },
          // Event kinds added later still get a record: their type and text.
          [](const auto&) { return json{{"type", "other"}}; },
      },
      e);
}

}  // namespace

json event_to_json(const Event& e) {
  json j = body(e);
  j["text_line"] = describe(e);
  return j;
}

json summary_to_json(const RunSummary& s) {
  return json{{"type", "summary"},
              {"backend", s.backend},
              {"outcome", to_string(s.outcome)},
              {"exit_code", exit_code(s.outcome)},
              {"events", s.nr_events},
              {"lint", {{"errors", s.lint_errors}, {"warnings", s.lint_warnings}}}};
}

}  // namespace tdsim::cli
