// `tdsim run --trace ... --trace-file ... --coverage`: which trace kinds were asked for,
// where the lines go (stderr or a file, never stdout with the events), and the ucall
// trace, which is built from the event stream so every backend has it.
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "core/event.h"
#include "core/td_image.h"
#include "sim/trace.h"

namespace tdsim::cli {

struct TraceRequest {
  bool insn = false, boot = false, tdcall = false, ucall = false;
  bool any_engine() const { return insn || boot || tdcall; }
};

// "insn,boot,tdcall,ucall" (any subset, or "all"); throws UsageError naming --trace.
TraceRequest parse_trace(const std::string& list);

// "vcpu 0 ucall PRINTF slot 0x1f000: args 0x0 ... text \"hello\"", or "" for other events.
// Guest strings in it are escaped (core/text_escape.h, '"' included): ready for line().
std::string ucall_trace_line(const Event& e);

// Owns the trace destination: stderr, or the file named by --trace-file (a regular
// file, a character device such as /dev/null, or a FIFO/pipe that already has a reader;
// never blocks in open()). line() is called from inside a backend's run, so it never
// throws: the first write error is kept, later lines are dropped, and flush() reports
// it after the run naming the file (main() turns it into one line and exit 70: the
// output could not be written, docs/reliability.md).
class TraceOutput {
 public:
  explicit TraceOutput(const std::string& path);  // "" = stderr; throws UsageError
  ~TraceOutput();
  TraceOutput(const TraceOutput&) = delete;
  TraceOutput& operator=(const TraceOutput&) = delete;
  void line(const std::string& s);      // an already escaped line (ucall_trace_line)
  void raw_line(const std::string& s);  // any other line: escaped first (engine traces, coverage)
  void flush();  // throws std::system_error naming --trace-file when lines were lost
  std::FILE* file() const { return f_; }

 private:
  std::FILE* f_ = stderr;
  bool owned_ = false;
  std::string path_;
  int write_errno_ = 0;  // first failed write, 0 = none
};

// Adds the labels of a user stub built by tdsim_add_stub to the image's symbols, read
// with libelf from the ELF object "<stub>.o" next to "<stub>.bin", so traces and fault
// reports name them (td_boot_enable_paging rather than stub+0x2c). No object: nothing
// changes; an object libelf cannot use: a note on stderr, and nothing changes.
void add_stub_symbols(TdImage& image, const std::string& stub_path);

}  // namespace tdsim::cli
