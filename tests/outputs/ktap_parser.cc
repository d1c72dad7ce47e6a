#include "ktap_parser.h"

#include <charconv>
#include <regex>

namespace tdsim::ktaptest {

namespace {

struct Line {
  size_t number;  // 1-based, for messages
  size_t indent;  // leading spaces
  std::string body;
};

bool is_version(const std::string& b) {
  return b == "KTAP version 1" || b == "TAP version 13" || b == "TAP version 14";
}

class Parser {
 public:
  Parser(std::vector<Line> lines, KtapDocument& doc) : lines_(std::move(lines)), doc_(doc) {}

  void document() {
    if (lines_.empty() || lines_[0].indent != 0 || !is_version(lines_[0].body)) {
      error(1, "the first line must be a version line (\"KTAP version 1\")");
      return;
    }
    i_ = 1;
    test(0, doc_.top, &doc_.trailing_diagnostics);
    for (; i_ < lines_.size(); ++i_) unknown(lines_[i_]);
  }

 private:
  void error(size_t line, const std::string& what) {
    doc_.errors.push_back("line " + std::to_string(line) + ": " + what);
  }
  void unknown(const Line& l) {
    doc_.unknown_lines.push_back("line " + std::to_string(l.number) + ": '" + std::string(l.indent, ' ') + l.body + "'");
  }

  // The lines of one (sub)test after its version line, at `indent`; stops at the first
  // line indented less (the parent's result line) or at the end.
  void test(size_t indent, KtapTest& t, std::vector<std::string>* trailing) {
    std::vector<std::string> diags;
    std::shared_ptr<KtapTest> pending;  // a subtest waiting for its result line
    size_t pending_line = 0;
    static const std::regex plan_re(R"(1\.\.(\d+))");
    while (i_ < lines_.size()) {
      const Line& l = lines_[i_];
      if (l.indent < indent) break;
      if (l.indent == indent + 2 && is_version(l.body)) {
        if (pending) error(pending_line, "a subtest without its parent's result line");
        pending = std::make_shared<KtapTest>();
        pending_line = l.number;
        ++i_;
        test(indent + 2, *pending, nullptr);
        continue;
      }
      ++i_;
      if (l.indent != indent) {
        unknown(l);
        continue;
      }
      std::smatch m;
      if (l.body.rfind("#", 0) == 0) {
        diags.push_back(l.body.size() > 1 && l.body[1] == ' ' ? l.body.substr(2) : l.body.substr(1));
      } else if (std::regex_match(l.body, m, plan_re)) {
        if (t.plan != -1 || !t.results.empty()) error(l.number, "a plan line after the plan or a result");
        t.plan = std::stoi(m[1].str());
      } else if (KtapResult r; result(l, r)) {
        if (r.number != static_cast<int>(t.results.size()) + 1)
          error(l.number, "result number " + std::to_string(r.number) + ", expected " +
                              std::to_string(t.results.size() + 1));
        if (pending) {
          bool sub_failed = false;
          for (const KtapResult& s : pending->results) sub_failed = sub_failed || s.failed();
          if (sub_failed && r.ok) error(l.number, "'ok' although one of its subtests failed");
          r.subtest = std::move(pending);
          pending.reset();
        }
        r.diagnostics = std::move(diags);
        diags.clear();
        t.results.push_back(std::move(r));
      } else if (is_version(l.body)) {
        error(l.number, "a version line inside a test at the same indentation");
      } else {
        unknown(l);
      }
    }
    if (pending) error(pending_line, "a subtest without its parent's result line");
    if (t.plan == -1) error(i_, "no plan line (1..N)");
    else if (t.plan != static_cast<int>(t.results.size()))
      error(i_, "plan 1.." + std::to_string(t.plan) + " but " + std::to_string(t.results.size()) + " result line(s)");
    if (trailing) *trailing = std::move(diags);
  }

  bool result(const Line& l, KtapResult& r) {
    static const std::regex re(R"((ok|not ok) (\d+)( [^#]*?)?( ?#(.*))?)");
    std::smatch m;
    if (!std::regex_match(l.body, m, re)) return false;
    r.ok = m[1].str() == "ok";
    r.number = std::stoi(m[2].str());
    r.description = m[3].matched ? m[3].str().substr(1) : "";
    if (m[4].matched) {
      std::string rest = m[5].str();
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      const size_t sp = rest.find(' ');
      const std::string word = rest.substr(0, sp);
      static const char* const kDirectives[] = {"SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR"};
      for (const char* d : kDirectives)
        if (word == d) r.directive = d;
      if (!r.directive.empty()) rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
      r.diagnostic = rest;
    }
    if ((r.directive == "TIMEOUT" || r.directive == "ERROR") && r.ok)
      error(l.number, r.directive + " on an 'ok' line (must be 'not ok')");
    return true;
  }

  std::vector<Line> lines_;
  KtapDocument& doc_;
  size_t i_ = 0;
};

}  // namespace

KtapDocument parse_ktap(std::string_view text) {
  std::vector<Line> lines;
  size_t n = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string raw(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++n;
    if (raw.empty()) continue;
    const size_t indent = raw.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    lines.push_back({n, indent, raw.substr(indent)});
  }
  KtapDocument doc;
  Parser(std::move(lines), doc).document();
  return doc;
}

std::string describe_problems(const KtapDocument& d) {
  std::string s;
  for (const std::string& e : d.errors) s += "error: " + e + "\n";
  for (const std::string& u : d.unknown_lines) s += "unknown: " + u + "\n";
  return s;
}

}  // namespace tdsim::ktaptest
