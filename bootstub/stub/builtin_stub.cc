// The built-in stub blob and its label table, both produced at build time from
// td_boot.S (see cmake/make_stub_blob.cmake); nothing here is hand-copied from the assembly.
#include "bootstub/stub/builtin_stub.h"

#include <algorithm>

extern const unsigned char tdsim_builtin_stub_blob[];
extern const unsigned long tdsim_builtin_stub_blob_size;

namespace tdsim {
namespace {

struct LabelOffset {
  const char* name;
  uint64_t offset;
};

constexpr LabelOffset kLabels[] = {
#include "stub_builtin_symbols.inc"
};

}  // namespace

std::span<const uint8_t> builtin_stub() {
  return {tdsim_builtin_stub_blob, static_cast<size_t>(tdsim_builtin_stub_blob_size)};
}

std::vector<Symbol> builtin_stub_symbols(uint64_t base) {
  std::vector<LabelOffset> labels(std::begin(kLabels), std::end(kLabels));
  std::sort(labels.begin(), labels.end(),
            [](const LabelOffset& a, const LabelOffset& b) { return a.offset < b.offset; });
  const uint64_t stub_size = tdsim_builtin_stub_blob_size;
  std::vector<Symbol> out;
  out.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    // A label spans up to the next one (or the stub's end), so a fault address inside
    // the stub resolves to the instruction group it belongs to.
    const uint64_t end = i + 1 < labels.size() ? labels[i + 1].offset : stub_size;
    out.push_back(Symbol{labels[i].name, base + labels[i].offset,
                         end > labels[i].offset ? end - labels[i].offset : 0});
  }
  return out;
}

}  // namespace tdsim
