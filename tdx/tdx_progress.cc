#include "tdx_progress.h"

#include <fmt/format.h>

namespace tdsim::tdx {

namespace {

std::string hex(const Digest48& d) {
  std::string s;
  for (uint8_t b : d) s += fmt::format("{:02x}", b);
  return s;
}

}  // namespace

bool TdxProgress::first(Step step) {
  if (!on_) return false;
  std::lock_guard<std::mutex> g(lock_);
  return seen_.insert(step).second;
}

void TdxProgress::rtmr_extended(uint32_t vcpu, uint64_t rip, uint32_t index, const Digest48& data) {
  if (!on_) return;
  std::lock_guard<std::mutex> g(lock_);
  extends_.push_back({vcpu, rip, index, data});
}

std::vector<Event> TdxProgress::report(const std::array<Digest48, 4>& rtmrs) const {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<Event> out;
  std::array<size_t, 4> count{};
  std::array<const Extend*, 4> last{};
  for (const Extend& e : extends_) {
    ++count[e.index];
    last[e.index] = &e;
    out.push_back(MilestoneEvent{e.vcpu, e.rip,
                                 fmt::format("RTMR[{}] extend #{} with {}", e.index, count[e.index], hex(e.data))});
  }
  for (uint32_t i = 0; i < 4; ++i)
    if (last[i])
      out.push_back(MilestoneEvent{last[i]->vcpu, last[i]->rip,
                                   fmt::format("RTMR[{}] = {} after {} extend{}", i, hex(rtmrs[i]), count[i],
                                               count[i] == 1 ? "" : "s")});
  return out;
}

void TdxProgress::reset() {
  std::lock_guard<std::mutex> g(lock_);
  seen_.clear();
  extends_.clear();
}

}  // namespace tdsim::tdx
