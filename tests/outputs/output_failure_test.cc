// Output that cannot be written (a full disk under stdout or --trace-file) ends the run
// with exit 70 and one line naming what failed, never an abort (the sinks run inside the
// engine, where an exception cannot unwind) and never a silent exit 0.
#include <gtest/gtest.h>

#include "tests/outputs/tdsim_stdout.h"

namespace tdsim::ktaptest {
namespace {

void expect_one_error_line(const TdsimRun& r, const std::string& what) {
  EXPECT_FALSE(r.signaled) << r.output;
  EXPECT_EQ(r.exit_code, 70) << r.output;
  ASSERT_FALSE(r.output.empty());
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "one line:\n" << r.output;
  EXPECT_EQ(r.output.rfind("tdsim run: error: ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
}

TEST(OutputFailure, TraceFileOnAFullDiskIsExit70) {
  // The instruction trace is written from inside Unicorn's hooks from the first
  // instruction on, long before the guest's first ucall.
  expect_one_error_line(run_tdsim("run --trace insn --trace-file /dev/full", "2>&1 >/dev/null"),
                        "No space left on device");
}

TEST(OutputFailure, StdoutOnAFullDiskIsExit70InEveryFormat) {
  for (const char* format : {"text", "json", "ktap"}) {
    SCOPED_TRACE(format);
    expect_one_error_line(run_tdsim(std::string("run --format ") + format, "2>&1 >/dev/full"),
                          "writing stdout: No space left on device");
  }
}

}  // namespace
}  // namespace tdsim::ktaptest
