// A small fixed guest-memory shape shared by the decoder and TDCALL harnesses: two
// contiguous blocks (so accesses may cross a block boundary), an isolated block with
// holes on both sides, and the 4 GiB-ending stub page (so ranges may run off the top of
// the address space). Contents come from the fuzz input; the mappings are made once.
#pragma once
#include <cstdint>
#include <span>

#include "core/guest_memory.h"
#include "core/td_image.h"

namespace tdsim::fuzz {

inline constexpr uint64_t kUcallMmioGpa = 0x40000;  // unbacked, like mem_size

// The image (shared bit 1 << 47) and its GuestMemory, built on first use.
const TdImage& fuzz_image();
GuestMemory& fuzz_memory();

// Zeroes every block, then copies `bytes` in block order from the start of the first
// block on (as much as fits).
void fill_memory(std::span<const uint8_t> bytes);

// A GPA the fuzzer can steer: `sel` picks a block (or a hole or raw value), `off` an
// offset that may run past the block's end.
uint64_t steered_gpa(uint8_t sel, uint64_t off);

}  // namespace tdsim::fuzz
