// Options shared by every subcommand that builds and runs an image (run, diff, ...):
// their Boost.Program_options description, and turning them into a LayoutSpec.
#pragma once
#include <boost/program_options.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "bootstub/host/layout_spec.h"
#include "core/backend.h"
#include "core/td_image.h"

namespace tdsim::cli {

// Bad user input (a file, an option value). The CLI prints it and exits kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Numbers are kept as text until to_layout_spec()/to_run_limits(): Boost would quietly
// wrap "-5" into a huge unsigned value.
struct RunOptions {
  std::string guest;  // empty = built-in hello
  std::string stub;   // empty = built-in stub
  std::string vcpus = "1";
  std::string gpaw = "48";
  std::string paging_levels = "4";
  std::string shared_mmio_pages = "0";
  std::string mem = "32M";
  std::string max_insns = "none";  // none: only the wall clock bounds a run
  double timeout_s = 10.0;
};

boost::program_options::options_description run_options_description(RunOptions& o);

// Reads the files and checks ranges; throws UsageError naming the option.
LayoutSpec to_layout_spec(const RunOptions& o);
RunLimits to_run_limits(const RunOptions& o);

// The TD that TDVF firmware at `path` describes (firmware/tdvf_image.h), with --mem as
// its RAM and --vcpus/--gpaw; throws UsageError naming the file or the option.
TdImage firmware_image(const std::string& path, const RunOptions& o);

// "64M", "1G", "0x2000000", "33554432" -> bytes; throws UsageError naming `option`.
uint64_t parse_size(const std::string& text, const char* option);

// A whole number in [min, max] (decimal or 0x hex, no sign, no suffix); throws
// UsageError naming `option` otherwise.
uint64_t parse_number(const std::string& text, const char* option, uint64_t min, uint64_t max);

}  // namespace tdsim::cli
