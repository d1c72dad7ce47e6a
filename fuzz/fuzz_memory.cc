#include "fuzz/fuzz_memory.h"

#include <algorithm>
#include <cstring>

namespace tdsim::fuzz {
namespace {

Region region(uint64_t gpa, uint64_t size, RegionKind kind, bool shared = false) {
  return make_region(to_string(kind), kind, gpa, size, {}, false, shared);
}

TdImage make_image() {
  TdImage img;
  img.shared_bit = 1ull << 47;
  img.ucall_mmio_gpa = kUcallMmioGpa;
  img.ucall_pool_gpa = 0x2000;
  img.regions = {region(0x1000, 0x1000, RegionKind::kRam), region(0x2000, 0x2000, RegionKind::kUcallPool, true),
                 region(0x10000, 0x1000, RegionKind::kRam), region(0xfffff000, 0x1000, RegionKind::kBootStub)};
  return img;
}

}  // namespace

const TdImage& fuzz_image() {
  static const TdImage img = make_image();
  return img;
}

GuestMemory& fuzz_memory() {
  static GuestMemory mem(fuzz_image());
  return mem;
}

void fill_memory(std::span<const uint8_t> bytes) {
  size_t at = 0;
  for (const GuestMemory::Block& b : fuzz_memory().blocks()) {
    std::memset(b.host, 0, b.size);
    const size_t n = std::min<size_t>(b.size, bytes.size() - at);
    if (n) std::memcpy(b.host, bytes.data() + at, n);
    at += n;
  }
}

uint64_t steered_gpa(uint8_t sel, uint64_t off) {
  const auto& blocks = fuzz_memory().blocks();
  switch (sel % 8) {
    case 0: case 1: case 2: case 3: return blocks[sel % 4].gpa + (off & 0x1fff);
    case 4: return blocks.back().gpa + blocks.back().size - (off & 0x3ff);  // near 4 GiB
    case 5: return kUcallMmioGpa + (off & 0xfff);                          // the MMIO hole
    case 6: return ~0ull - (off & 0xfff);                                  // top of 2^64
    default: return off;
  }
}

}  // namespace tdsim::fuzz
