#include "sim_vm.h"

#include <atomic>
#include <deque>
#include <utility>

#include "core/backend.h"

namespace tdsim::sim {

class SimVm::Stepper : public tdsim::Vcpu {
 public:
  Stepper(SimVm& vm, sim::Vcpu& v) : tdsim::Vcpu(vm.options_.limits), vm_(vm), v_(v) { }

  uint32_t index() const override { return v_.index(); }
  bool ended() const override { return ended_ && queue_.empty(); }
  uint64_t executed() const override { return v_.executed(); }
  std::vector<std::string> describe_position() const override { return v_.describe_position(); }

  bool resume() override {
    std::lock_guard<std::mutex> lock(vm_.engine_lock_);
    if (!queue_.empty() || !v_.resume()) return false;
    ended_ = yielded_ = false;
    return true;
  }

  // The engine stops at its next block boundary (a turn with no instruction limit has no
  // slice boundary to wait for).
  void kick() override {
    kicked_.store(true, std::memory_order_release);
    v_.request_stop();
  }

  std::optional<Event> run_turn(const Turn& turn) override {
    if (!queue_.empty()) return pop();
    // The slice that queued those events ended at a spin-wait: so does the turn.
    if (std::exchange(yielded_, false)) return std::nullopt;
    if (ended_) throw std::logic_error("Vcpu::run: vCPU " + std::to_string(index()) + " has ended");
    std::lock_guard<std::mutex> lock(vm_.engine_lock_);
    Watchdog& dog = vm_.watch(turn.deadline);
    v_.set_stop_after_event(!turn.events_may_queue);
    v_.set_yield_at_pause(turn.others_wait);
    const EventSink sink = [this](const Event& e) { queue_.push_back(e); };
    const uint64_t start = v_.executed();
    for (;;) {
      const uint64_t used = v_.executed() - start;
      if (used >= turn.max_insns || kicked_.exchange(false, std::memory_order_acq_rel) || dog.fired() ||
          Watchdog::Clock::now() >= turn.deadline)
        return std::nullopt;
      dog.set_running(v_.engine());
      // A turn with no limit is one slice with no limit: nothing asks for a count.
      const uint64_t slice =
          turn.max_insns == UINT64_MAX ? UINT64_MAX : std::min(Session::kDefaultSlice, turn.max_insns - used);
      const sim::Vcpu::SliceEnd end = v_.run_slice(slice, sink, dog.fired_flag());
      dog.set_running(nullptr);
      if (!queue_.empty()) {
        if (v_.stopped()) ended_ = true;
        yielded_ = end == sim::Vcpu::SliceEnd::kExhausted && v_.yielded();
        return pop();
      }
      if (end == sim::Vcpu::SliceEnd::kStopped) {
        // run_slice reports every stop as an event; none means an engine anomaly.
        ended_ = true;
        return FaultEvent{index(), 0, -1, 0, false, "unicorn: the vCPU stopped without reporting why"};
      }
      if (end == sim::Vcpu::SliceEnd::kExhausted && v_.yielded()) return std::nullopt;  // at a spin-wait
    }
  }

 private:
  Event pop() {
    Event e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }

  SimVm& vm_;
  sim::Vcpu& v_;
  std::deque<Event> queue_;  // events of one slice beyond the first (a terminal one last)
  bool ended_ = false;
  bool yielded_ = false;  // the queue's slice ended at a spin-wait (Turn::others_wait)
  std::atomic<bool> kicked_{false};
};

SimVm::SimVm(const TdImage& image, const VmOptions& options, tdx::TdxConfig config)
    : SimVm(image, options, std::move(config), std::make_shared<MmioReadHandler>()) {}

SimVm::SimVm(const TdImage& image, const VmOptions& options, tdx::TdxConfig config,
             std::shared_ptr<MmioReadHandler> mmio)
    : session_(image, tdx::forward_mmio_reads(std::move(config), mmio)), options_(options), mmio_read_(std::move(mmio)) {
  for (uint32_t i = 0; i < session_.nr_vcpus(); ++i)
    vcpus_.push_back(std::make_unique<Stepper>(*this, session_.vcpu(i)));
}

SimVm::~SimVm() = default;

tdsim::Vcpu& SimVm::vcpu(uint32_t index) { return *vcpus_.at(index); }

bool SimVm::read(uint64_t gpa, void* dst, uint64_t len) const { return session_.memory().read(gpa, dst, len); }

bool SimVm::write(uint64_t gpa, const void* src, uint64_t len) {
  std::lock_guard<std::mutex> lock(engine_lock_);
  return session_.write_guest(gpa, src, len);
}

// Arming the watchdog hands over to its thread, so it stays armed for as long as turns
// share one deadline (a driver's whole run) instead of being re-armed per turn.
Watchdog& SimVm::watch(Watchdog::Clock::time_point deadline) {
  Watchdog& dog = session_.watchdog();
  if (deadline != armed_for_) {
    if (deadline == Watchdog::Clock::time_point::max())
      dog.disarm();
    else
      dog.arm(deadline);
    armed_for_ = deadline;
  }
  return dog;
}

DebugTarget* SimVm::debug_target() {
  if (!debug_) debug_ = std::make_unique<SimDebugTarget>(session_);
  return debug_.get();
}

void SimVm::set_mmio_read(MmioReadHandler handler) {
  std::lock_guard<std::mutex> lock(engine_lock_);
  *mmio_read_ = std::move(handler);
}

}  // namespace tdsim::sim
