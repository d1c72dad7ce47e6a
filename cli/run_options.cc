#include "run_options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "core/text_escape.h"
#include "firmware/tdvf_image.h"
#include "input_file.h"

extern const unsigned char tdsim_builtin_hello_elf[];
extern const unsigned long tdsim_builtin_hello_elf_size;

namespace tdsim::cli {

namespace po = boost::program_options;

po::options_description run_options_description(RunOptions& o) {
  po::options_description d("Image and run options");
  d.add_options()
      ("guest", po::value(&o.guest), "guest program (x86-64 ELF executable); default: built-in hello")
      ("stub", po::value(&o.stub), "boot stub blob (flat binary) placed to end at 0xfffffff0; default: built-in")
      ("vcpus", po::value(&o.vcpus)->default_value(o.vcpus), "number of vCPUs (1..64)")
      ("gpaw", po::value(&o.gpaw)->default_value(o.gpaw), "guest physical address width: 48 or 52")
      ("paging-levels", po::value(&o.paging_levels)->default_value(o.paging_levels),
       "page-table levels the layout builds: 4, or 5 (LA57; needs --gpaw 52)")
      ("mem", po::value(&o.mem)->default_value(o.mem), "low RAM size (e.g. 32M, 1G, 0x2000000)")
      ("shared-mmio-pages", po::value(&o.shared_mmio_pages)->default_value(o.shared_mmio_pages),
       "pages after the ucall MMIO page mapped shared with nothing behind them (0..16): MMIO by MOV, a #VE")
      ("max-insns", po::value(&o.max_insns)->default_value(o.max_insns),
       "instruction budget over all vCPUs (backends that can count); none: only --timeout bounds the run, "
       "and a lone vCPU runs with no per-block instruction count")
      ("timeout", po::value(&o.timeout_s)->default_value(o.timeout_s), "wall-clock budget in seconds");
  return d;
}

namespace {

// Digits in base 10, or base 16 after an explicit 0x/0X; nothing else (no sign, no
// octal: strtoull's base 0 would read "010" as 8). Returns the number of characters
// used (0 = no number), and sets *overflow when the digits do not fit 64 bits.
size_t parse_digits(const std::string& text, unsigned long long* v, bool* overflow) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const char* first = text.data() + (hex ? 2 : 0);
  const char* last = text.data() + text.size();
  // from_chars accepts no sign or prefix of its own, so "0x-5" and "--5" are junk.
  const auto r = std::from_chars(first, last, *v, hex ? 16 : 10);
  *overflow = r.ec == std::errc::result_out_of_range;
  if (r.ec != std::errc() && !*overflow) return 0;
  return static_cast<size_t>(r.ptr - text.data());
}

}  // namespace

uint64_t parse_number(const std::string& text, const char* option, uint64_t min, uint64_t max) {
  unsigned long long v = 0;
  bool overflow = false;
  const size_t used = parse_digits(text, &v, &overflow);
  if (used == 0 || used != text.size())
    throw UsageError(fmt::format("--{}: '{}' is not a whole number (decimal, or hex with 0x)", option, text));
  if (overflow || v < min || v > max)
    throw UsageError(fmt::format("--{}: {} is out of range [{}, {}]", option, text, min, max));
  return v;
}

uint64_t parse_size(const std::string& text, const char* option) {
  if (text.empty()) throw UsageError(fmt::format("--{}: empty size", option));
  unsigned long long v = 0;
  bool overflow = false;
  const size_t used = parse_digits(text, &v, &overflow);
  if (used == 0) throw UsageError(fmt::format("--{}: '{}' is not a size", option, text));
  if (overflow) throw UsageError(fmt::format("--{}: '{}' is too large", option, text));
  uint64_t mult = 1;
  std::string suffix = text.substr(used);
  if (suffix == "K" || suffix == "k") mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m") mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g") mult = 1ull << 30;
  else if (!suffix.empty())
    throw UsageError(fmt::format("--{}: '{}' has an unknown suffix '{}' (use K, M or G)", option, text, suffix));
  if (v > std::numeric_limits<uint64_t>::max() / mult)
    throw UsageError(fmt::format("--{}: '{}' is too large", option, text));
  return v * mult;
}

LayoutSpec to_layout_spec(const RunOptions& o) {
  LayoutSpec spec;
  if (o.guest.empty()) {
    spec.guest_elf.assign(tdsim_builtin_hello_elf, tdsim_builtin_hello_elf + tdsim_builtin_hello_elf_size);
    spec.guest_elf_name = "built-in hello";
  } else {
    spec.guest_elf = read_input_file(o.guest, "--guest", kMaxGuestFileBytes);
    spec.guest_elf_name = o.guest;
  }
  if (!o.stub.empty()) {
    spec.stub = read_input_file(o.stub, "--stub", kMaxStubFileBytes);
    spec.stub_name = o.stub;
  }
  // Range checks beyond "a number that fits" are the layout's (it names the field).
  spec.nr_vcpus = static_cast<uint32_t>(parse_number(o.vcpus, "vcpus", 0, UINT32_MAX));
  spec.gpaw = static_cast<uint32_t>(parse_number(o.gpaw, "gpaw", 0, UINT32_MAX));
  spec.paging_levels = static_cast<uint32_t>(parse_number(o.paging_levels, "paging-levels", 0, UINT32_MAX));
  spec.shared_mmio_pages =
      static_cast<uint32_t>(parse_number(o.shared_mmio_pages, "shared-mmio-pages", 0, UINT32_MAX));
  spec.mem_size = parse_size(o.mem, "mem");
  return spec;
}

TdImage firmware_image(const std::string& path, const RunOptions& o) {
  if (!o.guest.empty() || !o.stub.empty())
    throw UsageError("--firmware boots the firmware from its reset vector: --guest and --stub do not apply");
  const std::vector<uint8_t> bytes = read_input_file(path, "--firmware", firmware::kMaxFirmwareFileBytes);
  firmware::TdvfLayout layout;
  layout.mem_size = parse_size(o.mem, "mem");
  layout.nr_vcpus = static_cast<uint32_t>(parse_number(o.vcpus, "vcpus", 0, UINT32_MAX));
  layout.gpaw = static_cast<uint32_t>(parse_number(o.gpaw, "gpaw", 0, UINT32_MAX));
  try {
    return firmware::tdvf_image(bytes, layout);
  } catch (const firmware::FirmwareError& e) {
    throw UsageError(fmt::format("--firmware {}: {}", escape_text(path), e.what()));
  }
}

RunLimits to_run_limits(const RunOptions& o) {
  if (!(o.timeout_s > 0) || !std::isfinite(o.timeout_s) || o.timeout_s > 86400)
    throw UsageError(fmt::format("--timeout: {} is not in (0, 86400] seconds", o.timeout_s));
  RunLimits l;
  l.max_insns = o.max_insns == "none" ? UINT64_MAX : parse_number(o.max_insns, "max-insns", 1, UINT64_MAX);
  l.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(o.timeout_s * 1000)));
  return l;
}

}  // namespace tdsim::cli
