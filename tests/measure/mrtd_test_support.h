// Shared by the MRTD tests: hand-made TdImages (make_vectors.py builds the same ones) and a
// Recorder that captures what an MrtdAccumulator hashes.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "core/td_image.h"

namespace tdsim::measure::mtest {

// Byte i = (i * mul + add) & 0xff: the same generator as pattern() in make_vectors.py.
inline std::vector<uint8_t> pattern(size_t n, unsigned mul, unsigned add) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * mul + add);
  return v;
}

inline Region region(const char* name, uint64_t gpa, uint64_t size, std::vector<uint8_t> bytes,
                     bool shared, bool measured) {
  return make_region(name, RegionKind::kRam, gpa, size, std::move(bytes), measured, shared);
}

// Vector (4): two measured regions (code's bytes stop short of its end), one unmeasured
// private region, one shared region.
inline TdImage mixed_image() {
  TdImage img;
  img.shared_bit = 1ull << 47;
  img.regions = {
      region("code", 0x2000, 0x2000, pattern(4096 + 100, 13, 1), false, true),
      region("heap", 0x5000, 0x1000, {}, false, false),
      region("pool", 0x8000, 0x1000, pattern(4096, 5, 9), true, false),
      region("stub", 0xfffff000, 0x1000, pattern(4096, 3, 0x55), false, true),
  };
  return img;
}

// Vector (5): one measured two-page region.
inline TdImage two_page_image() {
  TdImage img;
  img.regions = {region("two", 0x10000, 0x2000, pattern(0x2000, 11, 0x21), false, true)};
  return img;
}

// Captures every byte range the accumulator hashes, in order.
struct Recorder {
  std::vector<std::vector<uint8_t>> pieces;
  MrtdAccumulator::Tap tap() {
    return [this](std::span<const uint8_t> b) { pieces.emplace_back(b.begin(), b.end()); };
  }
  std::vector<uint8_t> stream() const {
    std::vector<uint8_t> all;
    for (const auto& p : pieces) all.insert(all.end(), p.begin(), p.end());
    return all;
  }
  // The GPA of every record header (PAGE.ADD and MR.EXTEND), tagged 'A' or 'E'.
  std::vector<std::pair<char, uint64_t>> records() const {
    std::vector<std::pair<char, uint64_t>> out;
    for (const auto& p : pieces) {
      if (p.size() != kRecordSize) continue;  // chunk data is 256 bytes
      uint64_t gpa = 0;
      for (int i = 7; i >= 0; --i) gpa = gpa << 8 | p[16 + i];
      out.emplace_back(p[0] == 'M' && p[1] == 'E' ? 'A' : 'E', gpa);
    }
    return out;
  }
};

}  // namespace tdsim::measure::mtest
