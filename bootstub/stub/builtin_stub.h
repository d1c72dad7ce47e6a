// The built-in boot stub: a flat 32-bit/64-bit blob assembled from td_boot.S at build
// time. It must be placed so that it ends exactly at the reset vector (0xfffffff0).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/td_image.h"

namespace tdsim {

std::span<const uint8_t> builtin_stub();

// The stub's labels as absolute addresses when the stub starts at `base`, for
// traces and fault reports.
std::vector<Symbol> builtin_stub_symbols(uint64_t base);

}  // namespace tdsim
