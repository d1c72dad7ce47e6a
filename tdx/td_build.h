// The TD build as the TDX module performs it, reduced to what decides the measurement:
// TDH.MNG.INIT, TDH.VP.INIT, TDH.MEM.PAGE.ADD, TDH.MR.EXTEND and TDH.MR.FINALIZE with the
// module's operand and state checks and completion statuses (docs/tdx-abi.md, "TD build").
// MRTD is accumulated from the calls actually made, through measure::MrtdAccumulator (the
// one record layout, shared with the prediction). Engine-free: the TD's memory is a
// GuestMemory, read where the module would read the TD page.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootstub/measure/mrtd.h"
#include "core/guest_memory.h"
#include "core/launch_order.h"

namespace tdsim::tdx {

// What TDH.MNG.INIT takes from TD_PARAMS that the build depends on.
struct TdParams {
  uint64_t attributes = 0;
  uint64_t xfam = 0x3;
  uint32_t gpaw = 48;       // 48 or 52; the shared bit is bit gpaw - 1
  uint32_t max_vcpus = 1;   // TDH.VP.INIT beyond this fails
};

// A SEAMCALL's completion status (RAX) and, when it failed, why, in TD terms.
struct SeamcallResult {
  uint64_t status = 0;
  std::string why;
  bool ok() const { return status == 0; }
};

class TdBuild {
 public:
  // The TD's operation state (TDCS.OP_STATE) as far as the build sees it.
  enum class OpState { kUninitialized, kInitialized, kRunnable };

  // `mem` holds the TD's pages (read by MR.EXTEND) and must outlive this object.
  explicit TdBuild(const GuestMemory& mem);

  // TDH.MNG.INIT: starts MRTD (an empty SHA-384; TD_PARAMS are not hashed), RTMRs zero.
  SeamcallResult mng_init(const TdParams& params);
  // TDH.VP.INIT: the next VCPU_INDEX; TDX_MAX_VCPUS_EXCEEDED past MAX_VCPUS.
  SeamcallResult vp_init();
  // TDH.MEM.PAGE.ADD with RCX = GPA | level (0 = 4 KiB): maps the page and records its GPA for MRTD.
  SeamcallResult page_add(uint64_t gpa_page_info);
  // TDH.MR.EXTEND of the 256-byte chunk at `gpa` of an added page: records the GPA and
  // the chunk's bytes as they are in the TD's memory now (hashed by mrtd()).
  SeamcallResult mr_extend(uint64_t gpa);
  // TDH.MR.FINALIZE: MRTD fixed, the TD runnable; no page is added or measured after it.
  SeamcallResult mr_finalize();

  OpState op_state() const { return state_; }
  // The finalized MRTD; nullopt before TDH.MR.FINALIZE succeeded. The SHA-384 over what
  // PAGE.ADD and MR.EXTEND measured runs at the first call, not as the TD is built: a run
  // that never reports the MRTD does not pay for it (a PAGE.ADD record per page of RAM
  // was a sixth of a cold `tdsim run`, docs/performance.md). Thread-safe.
  const std::optional<measure::Mrtd>& mrtd() const;
  uint32_t vcpus() const { return vcpus_; }
  uint64_t pages_added() const { return pages_.size(); }
  uint64_t chunks_extended() const { return chunks_; }
  bool page_present(uint64_t gpa) const { return pages_.count(gpa) != 0; }

 private:
  // nullopt if `gpa` may be a private GPA of this TD, else the status (operand RCX).
  std::optional<SeamcallResult> check_private_gpa(uint64_t gpa, const char* call) const;
  SeamcallResult state_is(OpState want, const char* call) const;

  const GuestMemory& mem_;
  TdParams params_;
  OpState state_ = OpState::kUninitialized;
  // What PAGE.ADD and MR.EXTEND measured, in order: a GPA alone (PAGE.ADD) or a chunk's
  // GPA with the offset of the 256 bytes it measured in chunk_bytes_ (copied as the
  // chunk was then, since the TD's memory changes afterwards).
  struct Measured {
    uint64_t gpa;
    size_t chunk;  // kPageAddOnly for PAGE.ADD
  };
  static constexpr size_t kPageAddOnly = ~size_t{0};
  std::vector<Measured> measured_;
  std::vector<uint8_t> chunk_bytes_;
  mutable std::mutex mrtd_lock_;  // mrtd() is hashed once, by whichever thread asks first
  mutable std::optional<measure::Mrtd> mrtd_;
  // GPAs mapped by PAGE.ADD (the S-EPT leaves that are MAPPED). Hashed, not ordered: a
  // build adds a page for every page of RAM, and nothing needs them in order.
  std::unordered_set<uint64_t> pages_;
  uint32_t vcpus_ = 0;
  uint64_t chunks_ = 0;
};

// A build call the module refused: names the call and carries its status.
class TdBuildError : public std::runtime_error {
 public:
  TdBuildError(const std::string& what, uint64_t status) : std::runtime_error(what), status_(status) {}
  uint64_t status() const { return status_; }

 private:
  uint64_t status_;
};

// The build a VMM performs for a TD, in the order KVM issues it for the launch plan
// (kvm/tdx_plan.h walks the same core launch_page_order()): TDH.MNG.INIT(params), one
// TDH.VP.INIT per vCPU, then per page TDH.MEM.PAGE.ADD and, when measured, the 16
// TDH.MR.EXTENDs of its chunks, then TDH.MR.FINALIZE. Throws TdBuildError at the first
// refused call.
void perform_td_build(TdBuild& build, const TdParams& params, uint32_t nr_vcpus,
                      const std::vector<PageAdd>& pages);

// The SEAMCALL status's name ("TDX_OP_STATE_INCORRECT"), operand id aside; "TDX_SUCCESS"
// for 0 and "unknown status" for codes the build never returns.
const char* seamcall_status_name(uint64_t status);

}  // namespace tdsim::tdx
