// Test helper: a host-side 4-level page walk over a TdImage's page-table region bytes,
// the way the CPU would do it after the stub loads CR3. Independent of the builder.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/td_image.h"

namespace tdsim::layouttest {

struct Translation {
  uint64_t target = 0;     // leaf address bits + offset, shared bit included
  uint64_t page_size = 0;  // 4096, 2 MiB (or 1 GiB if a PDPTE had PS: never expected)
  uint64_t leaf = 0;       // the leaf entry
  bool shared = false;     // the leaf carries image.shared_bit
};

// nullopt if gva is not mapped. Throws std::runtime_error if a table link points
// outside the page-table regions or carries the shared bit (tables stay private).
std::optional<Translation> walk(const TdImage& image, uint64_t gva);

// Reads a little-endian u64 from the image's initial contents (0 past bytes).
uint64_t read_u64(const TdImage& image, uint64_t gpa);

}  // namespace tdsim::layouttest
