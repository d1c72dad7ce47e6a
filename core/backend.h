// The one interface every backend implements: run a TdImage, report Events.
// Backends know TdImage, Event and the ucall decoder; nothing knows a backend but the CLI.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "event.h"
#include "td_image.h"

namespace tdsim {

// Every run is bounded: guest instructions (summed over vCPUs where the backend can
// count them) and wall-clock time.
struct RunLimits {
  uint64_t max_insns = 100'000'000;
  std::chrono::milliseconds timeout{10'000};
};

using EventSink = std::function<void(const Event&)>;

// A device behind guest MMIO reads: the value a read of `len` (1, 2, 4 or 8) bytes at the
// untagged `gpa` returns, or nullopt where no device answers (the read then returns 0).
// Called from the backend's run thread(s); vCPUs may call it concurrently on KVM.
using MmioReadHandler = std::function<std::optional<uint64_t>(uint32_t vcpu, uint64_t gpa, uint32_t len)>;

// What a guest MMIO read returns on every backend: the handler's answer cut to `len`
// bytes, 0 where there is no handler or it has no answer.
uint64_t answer_mmio_read(const MmioReadHandler& read, uint32_t vcpu, uint64_t gpa, uint32_t len);

// Thrown when a backend cannot set up or drive the VM at all (engine or ioctl error).
// The message names the call and its error.
class BackendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The backend works, but this host cannot give the image what it needs (a CPU feature,
// hardware): the run is a skip (exit 4), with the message as its reason.
class BackendUnsupported : public BackendError {
 public:
  using BackendError::BackendError;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Runs until every vCPU has stopped (a terminal event) or a budget runs out.
  // Events reach `sink` in the order they happen (per vCPU; vCPUs interleave).
  virtual void run(const TdImage& image, const RunLimits& limits, const EventSink& sink) = 0;
  // Answers the guest's MMIO reads in later runs, the same way on every backend (empty:
  // reads return 0). Writes are events; only reads need an answer.
  virtual void set_mmio_read(MmioReadHandler handler) = 0;
};

// Convenience for tests and tools: collect the stream.
std::vector<Event> run_collect(Backend& backend, const TdImage& image, const RunLimits& limits);

}  // namespace tdsim
