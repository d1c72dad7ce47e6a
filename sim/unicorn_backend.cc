#include "unicorn_backend.h"

#include "session.h"

namespace tdsim {

void UnicornBackend::run(const TdImage& image, const RunLimits& limits, const EventSink& sink) {
  sim::Session session(image, config_, slice_ ? slice_ : sim::Session::kDefaultSlice);
  session.set_trace(trace_);
  session.run(limits, sink);
}

}  // namespace tdsim
