#include "json_events.h"

#include <fmt/format.h>

#include "core/text_escape.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::cli {

namespace {

using nlohmann::json;

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

// Every string that is not a fixed name goes through the one output escape: guest
// bytes need not be UTF-8, and a JSON string must be (nlohmann throws otherwise).
std::string esc(std::string_view s) { return escape_text(s); }

json esc_lines(const std::vector<std::string>& lines) {
  json a = json::array();
  for (const std::string& l : lines) a.push_back(esc(l));
  return a;
}

// One alternative per event type and no catch-all: a new Event alternative does not
// compile until it has a shape here (and in docs/tdsim-events.schema.json).
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// The TDG.VP.VMCALL sub-functions KVM hands to userspace, each with its own arguments.
json vmcall_exit(const VmcallExitEvent& x) {
  json j{{"type", "vmcall_exit"}, {"vcpu", x.vcpu},           {"rip", hex(x.rip)},
         {"subfn", hex(x.subfn)}, {"status", hex(x.status)}};
  switch (x.subfn) {
    case abi::kVmcallMapGpa:
      j["call"] = "map_gpa", j["gpa"] = hex(x.gpa), j["size"] = hex(x.size);
      break;
    case abi::kVmcallGetQuote:
      j["call"] = "get_quote", j["gpa"] = hex(x.gpa), j["size"] = hex(x.size);
      break;
    case abi::kVmcallSetupEventNotifyInterrupt:
      j["call"] = "setup_event_notify_interrupt", j["vector"] = hex(x.arg);
      break;
    case abi::kVmcallGetTdVmCallInfo:
      j["call"] = "get_tdvmcall_info", j["leaf"] = hex(x.arg);
      break;
    default:  // a sub-function a backend added later: every argument, unnamed
      j["call"] = "unknown", j["gpa"] = hex(x.gpa), j["size"] = hex(x.size), j["arg"] = hex(x.arg);
      break;
  }
  return j;
}

json body(const Event& e) {
  return std::visit(
      Overloaded{
          [](const UcallEvent& u) {
            json j{{"type", "ucall"}, {"vcpu", u.vcpu}, {"cmd", ucall_cmd_name(u.cmd)}, {"slot_gpa", hex(u.slot_gpa)}};
            json args = json::array();
            for (uint64_t a : u.args) args.push_back(hex(a));
            j["args"] = args;
            if (!u.text.empty()) j["text"] = esc(u.text);
            if (u.assertion)
              j["assert"] = {{"expr", esc(u.assertion->expr)}, {"file", esc(u.assertion->file)},
                             {"line", hex(u.assertion->line)}};
            return j;
          },
          [](const MmioEvent& m) {
            return json{{"type", "mmio"},   {"vcpu", m.vcpu},         {"gpa", hex(m.gpa)},
                        {"len", m.len},     {"write", m.is_write},    {"data", hex(m.data)}};
          },
          [](const TdcallRejectedEvent& t) {
            return json{{"type", "tdcall_rejected"}, {"vcpu", t.vcpu},          {"rip", hex(t.rip)},
                        {"leaf", hex(t.leaf)},       {"subfn", hex(t.subfn)},   {"status", hex(t.status)},
                        {"reason", esc(t.reason)}};
          },
          [](const GuestMemoryErrorEvent& g) {
            return json{{"type", "guest_memory_error"}, {"vcpu", g.vcpu}, {"gpa", hex(g.gpa)},
                        {"size", hex(g.size)},               {"what", esc(g.what)}};
          },
          [](const FaultEvent& f) {
            return json{{"type", "fault"},          {"vcpu", f.vcpu},
                        {"rip", hex(f.rip)},        {"vector", f.vector},
                        {"error_code", hex(f.error_code)}, {"triple_fault", f.triple_fault},
                        {"detail", esc(f.detail)},  {"explanation", esc_lines(f.explanation)}};
          },
          [](const HaltEvent& h) { return json{{"type", "halt"}, {"vcpu", h.vcpu}, {"rip", hex(h.rip)}}; },
          [](const BudgetExceededEvent& b) {
            const bool insns = b.kind == BudgetExceededEvent::Kind::kInstructions;
            return json{{"type", "budget"},
                        {"kind", insns ? "instructions" : "wall_clock"},
                        {"limit", b.limit},
                        {"explanation", esc_lines(b.explanation)}};
          },
          [](const VmcallExitEvent& x) { return vmcall_exit(x); },
          [](const ConsoleEvent& c) {
            return json{{"type", "console"}, {"vcpu", c.vcpu}, {"port", hex(c.port)}, {"text", esc(c.text)}};
          },
          [](const DeviceEvent& d) {
            return json{{"type", "device"}, {"vcpu", d.vcpu}, {"device", esc(d.device)}, {"request", esc(d.request)}};
          },
      },
      e);
}

}  // namespace

json header_json() {
  return json{{"type", "header"}, {"schema", kJsonSchemaVersion}, {"version", TDSIM_VERSION}};
}

json event_to_json(const Event& e) {
  json j = body(e);
  j["text_line"] = esc(describe(e));
  return j;
}

json summary_to_json(const RunSummary& s) {
  json j{{"type", "summary"},
         {"backend", s.backend},
         {"outcome", to_string(s.outcome)},
         {"exit_code", exit_code(s.outcome)},
         {"events", s.nr_events},
         {"lint", {{"errors", s.lint_errors}, {"warnings", s.lint_warnings}}}};
  if (s.outcome == Outcome::kSkip) j["skip_reason"] = esc(s.skip_reason);
  return j;
}

}  // namespace tdsim::cli
