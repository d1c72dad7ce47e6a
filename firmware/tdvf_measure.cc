#include "tdvf_measure.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace tdsim::firmware {

void feed_tdvf(measure::MrtdAccumulator& acc, const TdvfMetadata& md, std::span<const uint8_t> image) {
  for (const TdvfSection& s : md.sections) {
    for (uint64_t page = 0; page < s.size; page += measure::kPageSize) {
      acc.page_add(s.gpa + page);
      if (!s.measured()) continue;
      for (uint64_t off = page; off < page + measure::kPageSize; off += measure::kExtendChunk) {
        std::array<uint8_t, measure::kExtendChunk> chunk{};
        // parse_tdvf checked data_offset + raw_size against the image.
        if (off < s.raw_size) {
          const uint64_t n = std::min<uint64_t>(measure::kExtendChunk, s.raw_size - off);
          std::memcpy(chunk.data(), image.data() + s.data_offset + off, n);
        }
        acc.mr_extend(s.gpa + off, chunk);
      }
    }
  }
}

measure::Mrtd predict_tdvf_mrtd(const TdvfMetadata& md, std::span<const uint8_t> image) {
  measure::MrtdAccumulator acc;
  feed_tdvf(acc, md, image);
  return acc.finalize();
}

}  // namespace tdsim::firmware
