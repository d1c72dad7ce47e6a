#include "run_trace.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "bootstub/host/stub_symbols.h"
#include "core/text_escape.h"
#include "input_file.h"
#include "run_options.h"

namespace tdsim::cli {

TraceRequest parse_trace(const std::string& list) {
  TraceRequest r;
  std::stringstream ss(list);
  std::string item;
  bool any = false;
  while (std::getline(ss, item, ',')) {
    if (item == "insn") r.insn = true;
    else if (item == "boot") r.boot = true;
    else if (item == "tdcall") r.tdcall = true;
    else if (item == "ucall") r.ucall = true;
    else if (item == "all") r.insn = r.boot = r.tdcall = r.ucall = true;
    else
      throw UsageError(fmt::format("--trace: unknown kind '{}' (choose from insn, boot, tdcall, ucall, all)", item));
    any = true;
  }
  if (!any) throw UsageError("--trace: empty list (choose from insn, boot, tdcall, ucall, all)");
  return r;
}

std::string ucall_trace_line(const Event& e) {
  const auto* u = std::get_if<UcallEvent>(&e);
  if (!u) return {};
  std::string s = fmt::format("vcpu {} ucall {} slot {:#x}: args", u->vcpu, ucall_cmd_name(u->cmd), u->slot_gpa);
  for (uint64_t a : u->args) s += fmt::format(" {:#x}", a);
  // Quoted guest strings are escaped with '"' too, so none can close its quotes early.
  if (!u->text.empty()) s += fmt::format(" text \"{}\"", escape_text(u->text, '"'));
  if (u->assertion)
    s += fmt::format(" assert \"{}\" at \"{}\":{}", escape_text(u->assertion->expr, '"'),
                     escape_text(u->assertion->file, '"'), u->assertion->line);
  return s;
}

TraceOutput::TraceOutput(const std::string& path) : path_(path) {
  if (path.empty()) return;
  // O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of blocking open().
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd < 0) {
    const int e = errno;
    if (e == ENXIO)
      throw UsageError(fmt::format("--trace-file: '{}' is a FIFO nobody reads; start the reader first", path));
    throw UsageError(fmt::format("--trace-file: cannot write '{}': {}", path, std::strerror(e)));
  }
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0;
  const unsigned mode = st.st_mode;
  // A trace may go to a file, /dev/null or a terminal, or a pipe; not over a disk
  // (block device) or into a socket.
  if (!ok || !(S_ISREG(mode) || S_ISCHR(mode) || S_ISFIFO(mode))) {
    ::close(fd);
    throw UsageError(fmt::format("--trace-file: '{}' is {}, not a file, character device or FIFO", path,
                                 ok ? file_type_name(mode) : "unreadable"));
  }
  // Truncate only now that it is known to be a regular file, and write blocking from here
  // on (a full pipe waits for its reader, as a terminal would).
  if ((S_ISREG(mode) && ::ftruncate(fd, 0) != 0) || ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int e = errno;
    ::close(fd);
    throw UsageError(fmt::format("--trace-file: cannot write '{}': {}", path, std::strerror(e)));
  }
  f_ = ::fdopen(fd, "w");
  if (!f_) {
    const int e = errno;
    ::close(fd);
    throw UsageError(fmt::format("--trace-file: cannot write '{}': {}", path, std::strerror(e)));
  }
  owned_ = true;
}

TraceOutput::~TraceOutput() {
  if (owned_) std::fclose(f_);
}

void TraceOutput::line(const std::string& s) {
  if (write_errno_) return;
  if (std::fwrite(s.data(), 1, s.size(), f_) != s.size() || std::fputc('\n', f_) == EOF)
    write_errno_ = errno ? errno : EIO;
}

void TraceOutput::raw_line(const std::string& s) { line(escape_text(s)); }

void TraceOutput::flush() {
  if (!write_errno_ && (std::fflush(f_) != 0 || std::ferror(f_))) write_errno_ = errno ? errno : EIO;
  if (write_errno_)
    throw std::runtime_error(fmt::format("--trace-file: writing '{}' failed: {}",
                                         path_.empty() ? std::string("<stderr>") : escape_text(path_),
                                         std::strerror(write_errno_)));
}

void add_stub_symbols(TdImage& image, const std::string& stub_path) {
  const std::string suffix = ".bin";
  if (stub_path.size() <= suffix.size() || stub_path.compare(stub_path.size() - suffix.size(), suffix.size(), suffix))
    return;
  const std::string object_path = stub_path.substr(0, stub_path.size() - suffix.size()) + ".o";
  struct stat st {};
  if (::stat(object_path.c_str(), &st) != 0 && errno == ENOENT) return;  // no object: no labels
  // Read like --stub itself: a FIFO or device named like the stub's object must not hang.
  const std::vector<uint8_t> object = read_input_file(object_path, "--stub (object with labels)", kMaxSymbolFileBytes);
  std::vector<Symbol> labels;
  try {
    labels = stub_label_symbols(read_stub_labels(object), image.stub_gpa, image.stub_size);
  } catch (const StubSymbolsError& e) {
    fmt::print(stderr, "tdsim: no stub labels from {}: {}\n", object_path, e.what());
    return;
  }
  if (labels.empty()) return;
  // Each label covers up to the next: TdImage::symbol_for() prefers a sized symbol, so
  // the whole-stub symbol the layout added would otherwise hide them.
  std::erase_if(image.symbols, [&](const Symbol& s) { return s.addr == image.stub_gpa && s.size == image.stub_size; });
  image.symbols.insert(image.symbols.end(), labels.begin(), labels.end());
  std::stable_sort(image.symbols.begin(), image.symbols.end(),
                   [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
}

}  // namespace tdsim::cli
