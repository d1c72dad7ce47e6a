// What a finished run amounts to, derived from its event stream alone, and the CLI's
// exit code for it (documented in README and docs/architecture.md). The codes keep
// clear of what kselftest's runner reads into them: 0 pass, 1 fail, 2 XFAIL, 3 XPASS,
// 4 SKIP, 124 timeout.
#pragma once
#include <cstdint>
#include <set>
#include <vector>

#include "event.h"

namespace tdsim {

enum class Outcome {
  kDone,          // every vCPU reached UCALL_DONE
  kGuestAssert,   // a vCPU reported UCALL_ABORT (GUEST_ASSERT) or UNHANDLED
  kFault,         // exception, triple fault, halt, bad guest memory, or a vCPU stopped short
  kBudget,        // instruction or wall-clock budget ran out
  kSkip,          // the backend cannot run on this host: decided before a run, never by classify()
};

inline constexpr int kExitDone = 0;
inline constexpr int kExitGuestAssert = 1;
inline constexpr int kExitSkip = 4;       // kselftest's KSFT_SKIP
inline constexpr int kExitFault = 5;      // a failure kselftest does not read as XFAIL/XPASS/SKIP
inline constexpr int kExitBudget = 124;   // what kselftest's runner reports as a timeout
inline constexpr int kExitUsage = 64;     // bad options or input files (EX_USAGE)
inline constexpr int kExitBackend = 70;   // the backend could not run at all (EX_SOFTWARE)

// Classifies a stream one event at a time, keeping only a few flags and the set of
// vCPUs that sent DONE, so a run's memory does not grow with its length. classify()
// below is this over a vector; both give the same outcome for the same events.
class OutcomeTracker {
 public:
  explicit OutcomeTracker(uint32_t nr_vcpus) : nr_vcpus_(nr_vcpus) {}
  void add(const Event& e);
  Outcome outcome() const;
  uint64_t events() const { return events_; }

 private:
  uint32_t nr_vcpus_;
  uint64_t events_ = 0;
  bool budget_ = false, asserted_ = false, faulted_ = false;
  std::set<uint32_t> done_;  // at most one entry per vCPU id the backend reports
};

Outcome classify(const std::vector<Event>& events, uint32_t nr_vcpus);
int exit_code(Outcome o);
const char* to_string(Outcome o);

}  // namespace tdsim
