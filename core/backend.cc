#include "backend.h"

namespace tdsim {

std::vector<Event> run_collect(Backend& backend, const TdImage& image, const RunLimits& limits) {
  std::vector<Event> events;
  backend.run(image, limits, [&](const Event& e) { events.push_back(e); });
  return events;
}

}  // namespace tdsim
