#include "backend.h"

namespace tdsim {

uint64_t answer_mmio_read(const MmioReadHandler& read, uint32_t vcpu, uint64_t gpa, uint32_t len) {
  return mask_to_access_size(read ? read(vcpu, gpa, len).value_or(0) : 0, len);
}

std::vector<Event> run_collect(Backend& backend, const TdImage& image, const RunLimits& limits) {
  std::vector<Event> events;
  backend.run(image, limits, [&](const Event& e) { events.push_back(e); });
  return events;
}

}  // namespace tdsim
