// Keeps exceptions out of a backend's engine: the event and trace sinks run inside
// engine callbacks (Unicorn's C frames cannot be unwound: an exception there ends in
// std::terminate, exit 134). The guard catches the first exception a sink throws (a full
// disk under stdout or --trace-file, ...), drops later output, and rethrows it once the
// backend has returned, so main() reports it in one line with exit 70.
#pragma once
#include <exception>
#include <utility>

namespace tdsim::cli {

class SinkGuard {
 public:
  template <class F>
  void operator()(F&& f) noexcept {
    if (first_) return;
    try {
      std::forward<F>(f)();
    } catch (...) {
      first_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  std::exception_ptr first_;
};

}  // namespace tdsim::cli
