// The TDX steps a TD's firmware takes, as the TDX module sees them (docs/firmware.md,
// "Milestones"): a milestone the first time each step happens — TDX detected (the CPUID
// instruction read leaf 0x21, where a TD finds "IntelTDX    "), TDG.VP.INFO, the first page
// the guest accepted — and every TDG.MR.RTMR.EXTEND, kept in order and reported when the
// run ends with the RTMR values they produced (what a verifier replays from the event
// log against a quote). On for firmware images only: tdsim's own images have no
// milestones. Engine-free; safe from several vCPU threads.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "tdreport.h"

namespace tdsim::tdx {

class TdxProgress {
 public:
  explicit TdxProgress(bool on) : on_(on) {}

  enum class Step { kTdxDetected, kVpInfo, kFirstAccept };
  // True the first time `step` happens (and progress is on): the caller reports it.
  bool first(Step step);
  // One TDG.MR.RTMR.EXTEND that succeeded: the 48 bytes extended into RTMR[index].
  void rtmr_extended(uint32_t vcpu, uint64_t rip, uint32_t index, const Digest48& data);
  // When the run ends: each extend in order, then each extended RTMR's value (`rtmrs`).
  std::vector<Event> report(const std::array<Digest48, 4>& rtmrs) const;
  void reset();

 private:
  struct Extend {
    uint32_t vcpu;
    uint64_t rip;
    uint32_t index;
    Digest48 data;
  };
  const bool on_;
  mutable std::mutex lock_;
  std::set<Step> seen_;
  std::vector<Extend> extends_;
};

}  // namespace tdsim::tdx
