// A prepared simulator for one TdImage: guest memory, one Unicorn engine per vCPU in the
// TD reset state, and the TDX-module stand-in. run() can be called again and again; each
// run starts from the initial state without paying uc_open again (restore a snapshot:
// the memory's, taken once at the first reset, copying back only the pages a run
// changed, + the saved initial CPU contexts). Unicorn-only; no CLI knowledge.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend.h"
#include "core/guest_memory.h"
#include "core/memory_snapshot.h"
#include "core/td_image.h"
#include "tdx/tdx_module.h"
#include "vcpu.h"
#include "watchdog.h"

namespace tdsim::sim {

class Session {
 public:
  // Instructions per vCPU turn: large enough that scheduling costs nothing, small enough
  // that spinning vCPUs hand over quickly.
  static constexpr uint64_t kDefaultSlice = 20'000;

  // `image` must outlive the session and stay unchanged. Throws BackendError.
  explicit Session(const TdImage& image, uint64_t slice_insns = kDefaultSlice);
  // With a TD configuration and host hooks for the TDX-module stand-in.
  Session(const TdImage& image, tdx::TdxConfig config, uint64_t slice_insns = kDefaultSlice);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs from the TD's initial state (resetting first if an earlier run used it).
  void run(const RunLimits& limits, const EventSink& sink);
  // Back to the initial state: memory to the snapshot (the image's contents with the
  // shared bit folded out of the page tables), every vCPU to its saved reset context.
  // Translated code is kept (that is the speed-up) except for boot-stub and guest-ELF
  // pages the last run changed; code the guest wrote into other regions is not tracked.
  void reset();

  uint32_t nr_vcpus() const { return static_cast<uint32_t>(vcpus_.size()); }
  const GuestMemory& memory() const { return mem_; }
  // A host write into guest memory (checked like GuestMemory::write); every vCPU drops
  // its translated code before its next instruction, so rewritten code runs as written.
  bool write_guest(uint64_t gpa, const void* src, uint64_t len);
  // Memory changed behind the engines (the TDX module's writes, a debugger's): the same.
  void code_written(uint64_t gpa, uint64_t len);
  const TdImage& image() const { return image_; }
  // The wall-clock watchdog the scheduler arms; the host API's stepping arms it too.
  Watchdog& watchdog() { return watchdog_; }
  Vcpu& vcpu(uint32_t i) { return *vcpus_.at(i); }
  // Trace lines and stub coverage for the following runs (nullptr: off); `t` must
  // outlive them. Events are unaffected.
  void set_trace(const TraceOptions* t) {
    trace_ = t;
    for (const auto& v : vcpus_) v->set_trace(t);
  }
  tdx::TdxModule& tdx() { return tdx_; }

 private:
  // Drops the translations of boot-stub and guest-ELF pages among `written` (GPAs).
  void drop_changed_code(const std::vector<uint64_t>& written);
  std::vector<uint64_t> code_pages_changed_from_image() const;
  void make_vcpus();

  const TdImage& image_;
  uint64_t slice_;
  GuestMemory mem_;
  tdx::TdxModule tdx_;
  std::unique_ptr<MemorySnapshot> snapshot_;  // taken at the first reset
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  Watchdog watchdog_;
  bool dirty_ = false;
  const TraceOptions* trace_ = nullptr;
};

}  // namespace tdsim::sim
