// libFuzzer harness: the CLI's event printers (text, text with colour, JSON lines, KTAP)
// on events of every type whose strings carry arbitrary guest bytes (ucall text, assert
// expression and file, bad-memory `what`, fault detail and report lines, TDCALL
// rejection reason, budget positions) and fuzzed numbers, then the summary. Checks after
// each input, reading the output as its consumers do:
//  - text and KTAP: only printable ASCII and '\n', no empty line, newline-terminated;
//    every event's lines decode (unescape_text) back to describe() and its report lines,
//    so the escape is lossless and no guest byte split or added a line;
//  - text with colour: exactly the colourless output plus the printer's own SGR codes;
//  - KTAP: the strict reader of tests/outputs accepts it, with one result per vCPU in
//    order whose status is what the events say (so no guest text forged or hid a result),
//    every "# " diagnostic accounted for;
//  - JSON: printable ASCII, one object per line (header, one per event, summary), every
//    guest string and text_line decoding back to the original bytes;
//  - no exception leaves a printer.
#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/event_printer.h"
#include "core/event.h"
#include "core/outcome.h"
#include "core/text_escape.h"
#include "tests/outputs/ktap_parser.h"

using namespace tdsim;
using namespace tdsim::cli;

namespace {

[[noreturn]] void finding(const std::string& what, const std::string& output = {}) {
  std::fprintf(stderr, "fuzz_event_printers: %s\n", what.c_str());
  if (!output.empty()) std::fprintf(stderr, "--- output ---\n%s--- end ---\n", output.c_str());
  std::abort();
}

// Guest strings: up to a ucall buffer's worth is plenty to reach every byte value and
// keeps the KTAP reader's regexes (run on every line) cheap.
std::string guest_string(FuzzedDataProvider& in) { return in.ConsumeRandomLengthString(300); }

std::vector<std::string> guest_lines(FuzzedDataProvider& in) {
  std::vector<std::string> out(in.ConsumeIntegralInRange<size_t>(0, 3));
  for (std::string& l : out) l = guest_string(in);
  return out;
}

Event make_event(FuzzedDataProvider& in, uint32_t nr_vcpus) {
  // One id past the plan too: a backend reporting an unknown vCPU must not add a result.
  const auto vcpu = in.ConsumeIntegralInRange<uint32_t>(0, nr_vcpus);
  switch (in.ConsumeIntegralInRange<int>(0, 10)) {
    case 0: {
      UcallEvent u;
      u.vcpu = vcpu;
      // Mostly the defined commands (each prints differently), sometimes any number.
      u.cmd = static_cast<abi::UcallCmd>(in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, abi::kUcallCmdMax)
                                                           : in.ConsumeIntegral<uint64_t>());
      for (uint64_t& a : u.args) a = in.ConsumeIntegral<uint64_t>();
      u.slot_gpa = in.ConsumeIntegral<uint64_t>();
      u.text = guest_string(in);
      if (in.ConsumeBool()) u.assertion = AssertInfo{guest_string(in), guest_string(in), in.ConsumeIntegral<uint64_t>()};
      return u;
    }
    case 1:
      return MmioEvent{vcpu, in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint32_t>(), in.ConsumeBool(),
                       in.ConsumeIntegral<uint64_t>()};
    case 2: {
      TdcallRejectedEvent t{vcpu, in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(),
                            in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(), {}};
      t.reason = guest_string(in);
      return t;
    }
    case 3: {
      GuestMemoryErrorEvent g{vcpu, in.ConsumeIntegral<uint64_t>(), in.ConsumeIntegral<uint64_t>(), {}};
      g.what = guest_string(in);
      return g;
    }
    case 4: {
      FaultEvent f;
      f.vcpu = vcpu;
      f.rip = in.ConsumeIntegral<uint64_t>();
      f.vector = in.ConsumeIntegral<int>();
      f.error_code = in.ConsumeIntegral<uint64_t>();
      f.triple_fault = in.ConsumeBool();
      f.detail = guest_string(in);
      f.explanation = guest_lines(in);
      return f;
    }
    case 5:
      return HaltEvent{vcpu, in.ConsumeIntegral<uint64_t>()};
    case 6: {
      BudgetExceededEvent b;
      b.kind = in.ConsumeBool() ? BudgetExceededEvent::Kind::kInstructions : BudgetExceededEvent::Kind::kWallClock;
      b.limit = in.ConsumeIntegral<uint64_t>();
      b.explanation = guest_lines(in);
      return b;
    }
    case 7: {
      const auto port = in.ConsumeIntegral<uint16_t>();
      return ConsoleEvent{vcpu, port, guest_string(in)};
    }
    case 8: {
      std::string device = guest_string(in);
      return DeviceEvent{vcpu, std::move(device), guest_string(in)};
    }
    case 9: {
      const auto rip = in.ConsumeIntegral<uint64_t>();
      return MilestoneEvent{vcpu, rip, guest_string(in)};
    }
    default:
      return VmcallExitEvent{vcpu,
                             in.ConsumeIntegral<uint64_t>(),
                             // The four named sub-functions sit at small numbers; reach them.
                             in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 0x10010)
                                              : in.ConsumeIntegral<uint64_t>(),
                             in.ConsumeIntegral<uint64_t>(),
                             in.ConsumeIntegral<uint64_t>(),
                             in.ConsumeIntegral<uint64_t>(),
                             in.ConsumeIntegral<uint64_t>()};
  }
}

// Everything a printer writes for these events and this summary, through a real FILE*.
std::string print(OutputFormat format, bool colour, uint32_t nr_vcpus, const std::vector<Event>& events,
                  const RunSummary& s) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (!f) finding("open_memstream failed");
  try {
    auto p = make_printer(format, f, colour, nr_vcpus);
    for (const Event& e : events) p->event(e);
    p->summary(s);
  } catch (const std::exception& ex) {
    std::fclose(f);
    std::free(buf);
    finding(std::string("a printer threw: ") + ex.what());
  }
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

void expect_printable(const std::string& out, bool allow_newline) {
  for (size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if ((c == '\n' && allow_newline) || (c >= 0x20 && c <= 0x7e)) continue;
    finding("byte " + std::to_string(c) + " at offset " + std::to_string(i) + " is not printable ASCII", out);
  }
}

std::vector<std::string> split_lines(const std::string& out) {
  if (!out.empty() && out.back() != '\n') finding("output does not end with a newline", out);
  std::vector<std::string> lines;
  for (size_t at = 0; at < out.size();) {
    const size_t nl = out.find('\n', at);
    lines.push_back(out.substr(at, nl - at));
    if (lines.back().empty()) finding("an empty line", out);
    at = nl + 1;
  }
  return lines;
}

// `escaped` must decode to exactly `raw`: nothing lost, nothing added.
void expect_decodes_to(std::string_view escaped, const std::string& raw, const char* field, const std::string& out) {
  const std::optional<std::string> back = unescape_text(escaped);
  if (!back) finding(std::string(field) + ": not escape_text() output: " + std::string(escaped), out);
  if (*back != raw) finding(std::string(field) + ": does not decode to the original bytes", out);
}

// Consumes one event's lines from `lines` at `at`: the describe() line, then a fault's
// report (or the no-register-state note) or a budget event's positions, indented by two.
void expect_event_lines(const std::vector<std::string>& lines, size_t& at, const Event& e, const std::string& out) {
  if (at >= lines.size()) finding("an event printed no line", out);
  expect_decodes_to(lines[at++], describe(e), "event line", out);
  std::vector<std::string> report;
  if (const auto* f = std::get_if<FaultEvent>(&e)) {
    if (f->explanation.empty()) {
      if (at >= lines.size() || lines[at].rfind("  (no register state", 0) != 0)
        finding("a fault without a report lacks the no-register-state note", out);
      ++at;
      return;
    }
    report = f->explanation;
  } else if (const auto* b = std::get_if<BudgetExceededEvent>(&e)) {
    report = b->explanation;
  }
  for (const std::string& r : report) {
    if (at >= lines.size() || lines[at].rfind("  ", 0) != 0) finding("a report line is missing or not indented", out);
    expect_decodes_to(std::string_view(lines[at++]).substr(2), r, "report line", out);
  }
}

void check_text(const std::string& out, const std::vector<Event>& events, const RunSummary& s) {
  expect_printable(out, true);
  const std::vector<std::string> lines = split_lines(out);
  size_t at = 0;
  for (const Event& e : events) expect_event_lines(lines, at, e, out);
  if (at + 1 != lines.size()) finding("text: not exactly one summary line after the events", out);
  const std::string& last = lines[at];
  if (s.outcome == Outcome::kSkip) {
    const std::string head = "tdsim: SKIP on " + s.backend + ": ", tail = " (exit 4)";
    if (last.rfind(head, 0) != 0 || last.size() < head.size() + tail.size() ||
        last.compare(last.size() - tail.size(), tail.size(), tail) != 0)
      finding("text: malformed SKIP summary", out);
    expect_decodes_to(std::string_view(last).substr(head.size(), last.size() - head.size() - tail.size()),
                      s.skip_reason, "skip reason", out);
  } else if (last.rfind("tdsim: " + std::string(to_string(s.outcome)) + " on ", 0) != 0) {
    finding("text: the summary line does not name the outcome", out);
  }
}

// Colour may add only the printer's own SGR codes (never guest ESCs): removing them
// gives the colourless output byte for byte.
void check_colour(std::string coloured, const std::string& plain) {
  for (const char* sgr : {"\033[1;31m", "\033[33m", "\033[32m", "\033[0m"})
    for (size_t p; (p = coloured.find(sgr)) != std::string::npos;) coloured.erase(p, std::string_view(sgr).size());
  if (coloured != plain) finding("colour output is not the plain output plus SGR codes", coloured);
}

// What KTAP says about vCPU v, restated from the events (ktap_events.h): SKIP for all
// when the backend cannot run; else the first event that ended v badly; else DONE; else
// TIMEOUT when the budget ran out; else "ended without UCALL_DONE".
struct Expected {
  bool ok;
  std::string directive, diagnostic, failure_diag;
};

Expected expected_result(uint32_t v, const std::vector<Event>& events, const RunSummary& s) {
  if (s.outcome == Outcome::kSkip) return {true, "SKIP", escape_text(s.skip_reason), {}};
  bool done = false;
  const Event* budget = nullptr;
  for (const Event& e : events) {
    if (std::holds_alternative<BudgetExceededEvent>(e)) budget = &e;
    if (vcpu_of(e) != v || !is_terminal(e)) continue;
    const auto* u = std::get_if<UcallEvent>(&e);
    if (u && u->cmd == abi::kUcallDone) {
      done = true;
      continue;
    }
    return {false, "", "", "vcpu" + std::to_string(v) + " failed: " + escape_text(describe(e))};
  }
  if (done) return {true, "", "", {}};
  if (budget) return {false, "TIMEOUT", escape_text(describe(*budget)), {}};
  return {false, "", "", "vcpu" + std::to_string(v) + " failed: ended without UCALL_DONE"};
}

void check_ktap(const std::string& out, uint32_t nr_vcpus, const std::vector<Event>& events, const RunSummary& s) {
  expect_printable(out, true);
  split_lines(out);  // newline-terminated, no empty line (the reader would skip one)
  const ktaptest::KtapDocument d = ktaptest::parse_ktap(out);
  if (!d.valid()) finding("KTAP reader: " + ktaptest::describe_problems(d), out);
  if (d.top.plan != static_cast<int>(nr_vcpus) || d.top.results.size() != nr_vcpus)
    finding("KTAP: not one result per vCPU", out);
  // Every diagnostic in order: the events' lines, each failing vCPU's reason right
  // before its result, the closing summary.
  std::vector<std::string> diags;
  for (uint32_t v = 0; v < nr_vcpus; ++v) {
    const ktaptest::KtapResult& r = d.top.results[v];
    const Expected x = expected_result(v, events, s);
    if (r.description != "vcpu" + std::to_string(v) || r.ok != x.ok || r.directive != x.directive ||
        r.diagnostic != x.diagnostic)
      finding("KTAP: result " + std::to_string(v + 1) + " is not what the events say", out);
    if (!x.failure_diag.empty() && (r.diagnostics.empty() || r.diagnostics.back() != x.failure_diag))
      finding("KTAP: a failing vCPU's reason is not right before its result", out);
    diags.insert(diags.end(), r.diagnostics.begin(), r.diagnostics.end() - (x.failure_diag.empty() ? 0 : 1));
  }
  diags.insert(diags.end(), d.trailing_diagnostics.begin(), d.trailing_diagnostics.end());
  size_t at = 0;
  for (const Event& e : events) expect_event_lines(diags, at, e, out);
  if (at + 1 != diags.size()) finding("KTAP: a diagnostic no event accounts for, or none to close", out);
  if (d.trailing_diagnostics.empty() || diags.back().rfind("tdsim: ", 0) != 0)
    finding("KTAP: the summary is not the closing line after the results", out);
}

const char* json_type(const Event& e) {
  static constexpr const char* kTypes[] = {"ucall", "mmio",  "tdcall_rejected", "guest_memory_error",
                                           "fault", "halt",  "budget",          "vmcall_exit",
                                           "console", "device", "milestone"};
  static_assert(std::size(kTypes) == std::variant_size_v<Event>);
  return kTypes[e.index()];
}

void expect_lines_decode(const nlohmann::json& a, const std::vector<std::string>& raw, const std::string& out) {
  if (!a.is_array() || a.size() != raw.size()) finding("JSON: explanation is not one string per line", out);
  for (size_t i = 0; i < raw.size(); ++i) expect_decodes_to(a[i].get<std::string>(), raw[i], "explanation", out);
}

void check_json(const std::string& out, const std::vector<Event>& events, const RunSummary& s) {
  expect_printable(out, true);
  const std::vector<std::string> lines = split_lines(out);
  if (lines.size() != events.size() + 2) finding("JSON: not header, one line per event, summary", out);
  std::vector<nlohmann::json> recs;
  for (const std::string& l : lines) recs.push_back(nlohmann::json::parse(l));  // throws on invalid JSON
  if (recs.front()["type"] != "header") finding("JSON: no header first", out);
  for (size_t i = 0; i < events.size(); ++i) {
    const nlohmann::json& j = recs[i + 1];
    const Event& e = events[i];
    if (j.at("type") != json_type(e)) finding("JSON: wrong type", out);
    expect_decodes_to(j.at("text_line").get<std::string>(), describe(e), "text_line", out);
    if (const auto* u = std::get_if<UcallEvent>(&e)) {
      if (u->text.empty() ? j.contains("text") : !j.contains("text")) finding("JSON: ucall text missing or extra", out);
      if (!u->text.empty()) expect_decodes_to(j["text"].get<std::string>(), u->text, "ucall text", out);
      if (u->assertion.has_value() != j.contains("assert")) finding("JSON: assert missing or extra", out);
      if (u->assertion) {
        expect_decodes_to(j["assert"].at("expr").get<std::string>(), u->assertion->expr, "assert expr", out);
        expect_decodes_to(j["assert"].at("file").get<std::string>(), u->assertion->file, "assert file", out);
        if (j["assert"].at("line").get<std::string>() != fmt::format("{:#x}", u->assertion->line))
          finding("JSON: assert line", out);
      }
    } else if (const auto* t = std::get_if<TdcallRejectedEvent>(&e)) {
      expect_decodes_to(j.at("reason").get<std::string>(), t->reason, "tdcall reason", out);
    } else if (const auto* g = std::get_if<GuestMemoryErrorEvent>(&e)) {
      expect_decodes_to(j.at("what").get<std::string>(), g->what, "guest memory what", out);
      if (j.at("size").get<std::string>() != fmt::format("{:#x}", g->size)) finding("JSON: guest memory size", out);
    } else if (const auto* f = std::get_if<FaultEvent>(&e)) {
      expect_decodes_to(j.at("detail").get<std::string>(), f->detail, "fault detail", out);
      expect_lines_decode(j.at("explanation"), f->explanation, out);
    } else if (const auto* b = std::get_if<BudgetExceededEvent>(&e)) {
      expect_lines_decode(j.at("explanation"), b->explanation, out);
    }
  }
  const nlohmann::json& sum = recs.back();
  if (sum.at("type") != "summary" || sum.at("outcome") != to_string(s.outcome) ||
      sum.at("exit_code") != exit_code(s.outcome))
    finding("JSON: wrong summary", out);
  if (s.outcome == Outcome::kSkip)
    expect_decodes_to(sum.at("skip_reason").get<std::string>(), s.skip_reason, "skip reason", out);
  else if (sum.contains("skip_reason"))
    finding("JSON: a skip reason without a skip", out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const auto nr_vcpus = in.ConsumeIntegralInRange<uint32_t>(0, 4);
  std::vector<Event> events(in.ConsumeIntegralInRange<size_t>(0, 12));
  for (Event& e : events) e = make_event(in, nr_vcpus);
  RunSummary s;
  s.backend = in.PickValueInArray({"unicorn", "kvm", "kvm-tdx"});  // chosen by the CLI, never the guest
  s.nr_events = events.size();
  s.lint_errors = in.ConsumeIntegral<uint8_t>();
  s.lint_warnings = in.ConsumeIntegral<uint8_t>();
  if (in.ConsumeBool()) {
    s.outcome = Outcome::kSkip;
    s.skip_reason = guest_string(in);  // host text (a probe's reason), escaped all the same
  } else {
    s.outcome = classify(events, nr_vcpus);
  }
  // Anything thrown while checking (a JSON line that does not parse, a missing field)
  // is a finding too, reported as such rather than as an uncaught exception.
  try {
    const std::string plain = print(OutputFormat::kText, false, nr_vcpus, events, s);
    check_text(plain, events, s);
    check_colour(print(OutputFormat::kText, true, nr_vcpus, events, s), plain);
    check_ktap(print(OutputFormat::kKtap, false, nr_vcpus, events, s), nr_vcpus, events, s);
    check_json(print(OutputFormat::kJson, false, nr_vcpus, events, s), events, s);
  } catch (const std::exception& ex) {
    finding(std::string("checking threw: ") + ex.what());
  }
  return 0;
}
