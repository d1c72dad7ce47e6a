#include "run_trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "bootstub/host/stub_symbols.h"
#include "core/text_escape.h"
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

TraceOutput::TraceOutput(const std::string& path) {
  if (path.empty()) return;
  f_ = std::fopen(path.c_str(), "w");
  if (!f_) throw UsageError(fmt::format("--trace-file: cannot write '{}': {}", path, std::strerror(errno)));
  owned_ = true;
}

TraceOutput::~TraceOutput() {
  if (owned_) std::fclose(f_);
}

void TraceOutput::line(const std::string& s) { fmt::print(f_, "{}\n", s); }

void TraceOutput::raw_line(const std::string& s) { line(escape_text(s)); }

void TraceOutput::flush() {
  if (std::fflush(f_) != 0 || std::ferror(f_))
    throw std::system_error(errno, std::generic_category(), owned_ ? "--trace-file" : "writing trace lines to stderr");
}

void add_stub_symbols(TdImage& image, const std::string& stub_path) {
  const std::string suffix = ".bin";
  if (stub_path.size() <= suffix.size() || stub_path.compare(stub_path.size() - suffix.size(), suffix.size(), suffix))
    return;
  const std::string object_path = stub_path.substr(0, stub_path.size() - suffix.size()) + ".o";
  std::ifstream in(object_path, std::ios::binary);
  if (!in) return;
  const std::vector<uint8_t> object{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
