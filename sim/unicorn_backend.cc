#include "unicorn_backend.h"

#include "session.h"

namespace tdsim {

void UnicornBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  sim::Session session(image, slice_ ? slice_ : sim::Session::kDefaultSlice);
  session.run(limits, sink);
}

}  // namespace tdsim
