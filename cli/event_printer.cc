#include "event_printer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "core/text_escape.h"
#include "json_events.h"
#include "ktap_events.h"
#include "run_options.h"

namespace tdsim::cli {

OutputFormat parse_format(const std::string& name) {
  if (name == "text") return OutputFormat::kText;
  if (name == "json") return OutputFormat::kJson;
  if (name == "ktap") return OutputFormat::kKtap;
  throw UsageError(fmt::format("--format: unknown format '{}' (choose text, json or ktap)", name));
}

bool want_colour(std::FILE* out) {
  const char* no = std::getenv("NO_COLOR");
  if (no && *no) return false;
  return ::isatty(::fileno(out)) == 1;
}

void flush_output(std::FILE* out) {
  if (std::fflush(out) != 0 || std::ferror(out))
    throw std::system_error(errno, std::generic_category(), out == stdout ? "writing stdout" : "writing output");
}

std::vector<std::string> event_lines(const Event& e) {
  // Escaped here, the one place text and KTAP take their lines from: guest text and
  // symbol names must not reach a terminal or a KTAP reader raw.
  std::vector<std::string> out{escape_text(describe(e))};
  if (const auto* f = std::get_if<FaultEvent>(&e)) {
    if (f->explanation.empty())
      out.push_back("  (no register state: this backend cannot read the vCPU's registers; a TD's "
                    "are protected by the TDX module; run on --backend unicorn or kvm for a report)");
    for (const std::string& l : f->explanation) out.push_back("  " + escape_text(l));
  } else if (const auto* b = std::get_if<BudgetExceededEvent>(&e)) {
    for (const std::string& l : b->explanation) out.push_back("  " + escape_text(l));
  }
  return out;
}

namespace {

// SGR codes; only the first line of an event is coloured, reports stay plain.
const char* colour_of(const Event& e) {
  if (std::holds_alternative<FaultEvent>(e) || std::holds_alternative<GuestMemoryErrorEvent>(e))
    return "\033[1;31m";
  if (std::holds_alternative<BudgetExceededEvent>(e) || std::holds_alternative<TdcallRejectedEvent>(e))
    return "\033[33m";
  if (const auto* u = std::get_if<UcallEvent>(&e)) {
    if (u->cmd == abi::kUcallDone) return "\033[32m";
    if (u->cmd == abi::kUcallAbort || u->cmd == abi::kUcallUnhandled) return "\033[1;31m";
  }
  return nullptr;
}

class TextPrinter : public EventPrinter {
 public:
  TextPrinter(std::FILE* out, bool colour) : out_(out), colour_(colour) {}
  void event(const Event& e) override {
    const std::vector<std::string> lines = event_lines(e);
    const char* c = colour_ ? colour_of(e) : nullptr;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i == 0 && c)
        fmt::print(out_, "{}{}\033[0m\n", c, lines[i]);
      else
        fmt::print(out_, "{}\n", lines[i]);
    }
    flush_output(out_);
  }
  void summary(const RunSummary& s) override {
    const std::string line =
        s.outcome == Outcome::kSkip
            ? fmt::format("tdsim: SKIP on {}: {} (exit {})", s.backend, escape_text(s.skip_reason), kExitSkip)
            : fmt::format("tdsim: {} on {} after {} events (exit {})", to_string(s.outcome), s.backend,
                          s.nr_events, exit_code(s.outcome));
    if (colour_)
      fmt::print(out_, "{}{}\033[0m\n", s.outcome == Outcome::kDone ? "\033[32m" : "\033[1;31m", line);
    else
      fmt::print(out_, "{}\n", line);
    flush_output(out_);
  }

 private:
  std::FILE* out_;
  bool colour_;
};

class JsonPrinter : public EventPrinter {
 public:
  explicit JsonPrinter(std::FILE* out) : out_(out) {
    fmt::print(out_, "{}\n", header_json().dump());
    flush_output(out_);
  }
  void event(const Event& e) override {
    fmt::print(out_, "{}\n", event_to_json(e).dump());
    flush_output(out_);
  }
  void summary(const RunSummary& s) override {
    fmt::print(out_, "{}\n", summary_to_json(s).dump());
    flush_output(out_);
  }

 private:
  std::FILE* out_;
};

}  // namespace

std::unique_ptr<EventPrinter> make_printer(OutputFormat format, std::FILE* out, bool colour,
                                           uint32_t nr_vcpus) {
  if (format == OutputFormat::kJson) return std::make_unique<JsonPrinter>(out);
  if (format == OutputFormat::kKtap) return std::make_unique<KtapPrinter>(out, nr_vcpus);
  return std::make_unique<TextPrinter>(out, colour);
}

}  // namespace tdsim::cli
