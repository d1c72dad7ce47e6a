// Small helpers shared by the Unicorn backend tests.
#pragma once
#include <chrono>
#include <vector>

#include "core/backend.h"
#include "hand_image.h"
#include "sim/session.h"
#include "sim/unicorn_backend.h"

namespace tdsim::simtest {

inline RunLimits limits(uint64_t insns = 1'000'000, int ms = 10'000) {
  return RunLimits{insns, std::chrono::milliseconds(ms)};
}

inline std::vector<Event> run_image(const TdImage& im, RunLimits l = limits(), uint64_t slice = 0) {
  UnicornBackend b(slice);
  return run_collect(b, im, l);
}

inline std::vector<uint8_t> out_cells(sim::Session& s) {
  std::vector<uint8_t> page(0x1000);
  s.memory().read(kData, page.data(), page.size());
  return std::vector<uint8_t>(page.begin() + kCellOut, page.begin() + kCellOut + 0x100);
}

template <class T>
const T& as(const Event& e) {
  return std::get<T>(e);
}

}  // namespace tdsim::simtest
