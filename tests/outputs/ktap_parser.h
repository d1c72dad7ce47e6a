// A strict reader of KTAP v1 (the kernel's Documentation/dev-tools/ktap.rst), restated
// for tests: a version line first; a plan "1..N"; result lines
// "ok|not ok <n> [<description>][ # [<directive>] [<diagnostic>]]" numbered from 1 by 1
// at each level; directives SKIP, TODO, XFAIL, TIMEOUT, ERROR (TIMEOUT and ERROR only
// with "not ok"); "# " diagnostic lines anywhere; a nested subtest as a whole KTAP
// document indented two more spaces, right before its parent's result line, and a
// parent that is "ok" only if none of its subtests failed. Anything else is an unknown
// line: KTAP allows them, tdsim never prints one, so the reader lists them.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tdsim::ktaptest {

struct KtapTest;

struct KtapResult {
  bool ok = false;
  int number = 0;
  std::string description;
  std::string directive;   // "" or SKIP, TODO, XFAIL, TIMEOUT, ERROR
  std::string diagnostic;  // text after the directive (or after '#' when there is none)
  std::vector<std::string> diagnostics;  // "# " lines directly before it, without "# "
  std::shared_ptr<KtapTest> subtest;     // the nested results this line concludes, if any
  bool failed() const { return !ok && directive != "SKIP"; }
};

struct KtapTest {
  int plan = -1;  // -1: no plan line
  std::vector<KtapResult> results;
};

struct KtapDocument {
  KtapTest top;
  std::vector<std::string> errors;         // rule violations, each naming its line number
  std::vector<std::string> unknown_lines;  // lines of none of the four kinds
  std::vector<std::string> trailing_diagnostics;  // "# " lines after the last result
  bool valid() const { return errors.empty() && unknown_lines.empty(); }
};

KtapDocument parse_ktap(std::string_view text);

// All errors and unknown lines, one per line (for test failure messages).
std::string describe_problems(const KtapDocument& d);

}  // namespace tdsim::ktaptest
