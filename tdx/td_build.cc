// The build-time SEAMCALLs, their checks in the module's order, and the build a VMM
// performs from the launch page order.
#include "td_build.h"

#include <fmt/format.h>

#include <array>

#include "tdsim/abi/tdx.h"

namespace tdsim::tdx {

namespace {

constexpr uint64_t kPage = measure::kPageSize;
constexpr uint64_t kChunk = measure::kExtendChunk;
// TDH.MEM.PAGE.ADD's RCX: level in bits 2:0, reserved bits 11:3 and 63:52, GPA in 51:12.
constexpr uint64_t kPageInfoLevelMask = 0x7;
constexpr uint64_t kPageInfoReservedMask = 0xff8ull | (0xfffull << 52);

const char* state_name(TdBuild::OpState s) {
  switch (s) {
    case TdBuild::OpState::kUninitialized: return "not initialized (no TDH.MNG.INIT)";
    case TdBuild::OpState::kInitialized: return "initialized (being built)";
    case TdBuild::OpState::kRunnable: return "runnable (finalized by TDH.MR.FINALIZE)";
  }
  return "?";
}

SeamcallResult fail(uint64_t status, std::string why) { return {status, std::move(why)}; }

}  // namespace

TdBuild::TdBuild(const GuestMemory& mem) : mem_(mem) {}

SeamcallResult TdBuild::state_is(OpState want, const char* call) const {
  if (state_ == want) return {};
  return fail(abi::kTdxOpStateIncorrect,
              fmt::format("{}: the TD is {}, the call needs it {}", call, state_name(state_), state_name(want)));
}

std::optional<SeamcallResult> TdBuild::check_private_gpa(uint64_t gpa, const char* call) const {
  // A private GPA has the shared bit (GPAW - 1) and everything above it clear.
  if (gpa >> (params_.gpaw - 1) == 0) return std::nullopt;
  return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx,
              fmt::format("{}: GPA {:#x} is not a private GPA of a TD with GPAW {} (bits {}..63 must be 0)", call,
                          gpa, params_.gpaw, params_.gpaw - 1));
}

SeamcallResult TdBuild::mng_init(const TdParams& params) {
  if (auto r = state_is(OpState::kUninitialized, "TDH.MNG.INIT"); !r.ok()) return r;
  if (params.gpaw != 48 && params.gpaw != 52)
    return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdRdx,
                fmt::format("TDH.MNG.INIT: TD_PARAMS GPAW {} (must be 48 or 52)", params.gpaw));
  if (params.max_vcpus == 0)
    return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdRdx, "TDH.MNG.INIT: TD_PARAMS MAX_VCPUS 0");
  params_ = params;
  measured_.clear();  // the measurement starts empty (hashed by mrtd())
  chunk_bytes_.clear();
  state_ = OpState::kInitialized;
  return {};
}

SeamcallResult TdBuild::vp_init() {
  if (state_ == OpState::kUninitialized) return state_is(OpState::kInitialized, "TDH.VP.INIT");
  if (vcpus_ >= params_.max_vcpus)
    return fail(abi::kTdxMaxVcpusExceeded,
                fmt::format("TDH.VP.INIT: VCPU_INDEX {} would exceed MAX_VCPUS {}", vcpus_, params_.max_vcpus));
  ++vcpus_;
  return {};
}

SeamcallResult TdBuild::page_add(uint64_t info) {
  if (auto r = state_is(OpState::kInitialized, "TDH.MEM.PAGE.ADD"); !r.ok()) return r;
  if ((info & kPageInfoLevelMask) != 0 || (info & kPageInfoReservedMask) != 0)
    return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx,
                fmt::format("TDH.MEM.PAGE.ADD: RCX {:#x} is not a 4 KiB page's GPA (level bits 2:0 must be 0 "
                            "and bits 11:3, 63:52 are reserved)",
                            info));
  const uint64_t gpa = info;
  if (auto r = check_private_gpa(gpa, "TDH.MEM.PAGE.ADD")) return *r;
  if (pages_.count(gpa))
    return fail(abi::kTdxEptEntryStateIncorrect | abi::kTdxOperandIdRcx,
                fmt::format("TDH.MEM.PAGE.ADD: the page at GPA {:#x} is already mapped (added before)", gpa));
  // The module maps the target page the VMM hands it (R8); in tdsim that page is the
  // TD's memory at the GPA, so a GPA no memory backs has no target page.
  if (!mem_.host_ptr(gpa, kPage))
    return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdR8,
                fmt::format("TDH.MEM.PAGE.ADD: no TD memory backs the page at GPA {:#x}", gpa));
  measured_.push_back({gpa, kPageAddOnly});
  pages_.insert(gpa);
  return {};
}

SeamcallResult TdBuild::mr_extend(uint64_t gpa) {
  if (auto r = state_is(OpState::kInitialized, "TDH.MR.EXTEND"); !r.ok()) return r;
  if (gpa % kChunk)
    return fail(abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx,
                fmt::format("TDH.MR.EXTEND: chunk GPA {:#x} is not 256-byte aligned", gpa));
  if (auto r = check_private_gpa(gpa, "TDH.MR.EXTEND")) return *r;
  if (!pages_.count(gpa & ~(kPage - 1)))
    return fail(abi::kTdxEptEntryNotPresent | abi::kTdxOperandIdRcx,
                fmt::format("TDH.MR.EXTEND: no page was added at GPA {:#x}", gpa & ~(kPage - 1)));
  std::array<uint8_t, kChunk> chunk{};
  if (!mem_.read(gpa, chunk.data(), chunk.size()))  // added pages are backed: cannot happen
    throw std::logic_error(fmt::format("TDH.MR.EXTEND: added page at {:#x} has no memory", gpa));
  measured_.push_back({gpa, chunk_bytes_.size()});
  chunk_bytes_.insert(chunk_bytes_.end(), chunk.begin(), chunk.end());
  ++chunks_;
  return {};
}

SeamcallResult TdBuild::mr_finalize() {
  if (auto r = state_is(OpState::kInitialized, "TDH.MR.FINALIZE"); !r.ok()) return r;
  if (vcpus_ == 0) return fail(abi::kTdxNoVcpus, "TDH.MR.FINALIZE: the TD has no vCPU (no TDH.VP.INIT)");
  state_ = OpState::kRunnable;
  return {};
}

const std::optional<measure::Mrtd>& TdBuild::mrtd() const {
  std::lock_guard<std::mutex> l(mrtd_lock_);
  if (mrtd_ || state_ != OpState::kRunnable) return mrtd_;
  measure::MrtdAccumulator acc;  // TDH.MNG.INIT's empty SHA-384, then the build's order
  for (const Measured& m : measured_) {
    if (m.chunk == kPageAddOnly) {
      acc.page_add(m.gpa);
    } else {
      acc.mr_extend(m.gpa, std::span<const uint8_t, kChunk>(chunk_bytes_.data() + m.chunk, kChunk));
    }
  }
  mrtd_ = acc.finalize();
  return mrtd_;
}

void perform_td_build(TdBuild& build, const TdParams& params, uint32_t nr_vcpus,
                      const std::vector<PageAdd>& pages) {
  auto must = [](const SeamcallResult& r) {
    if (!r.ok())
      throw TdBuildError(fmt::format("TD build: {} ({}, {:#x})", r.why, seamcall_status_name(r.status), r.status),
                         r.status);
  };
  must(build.mng_init(params));
  for (uint32_t i = 0; i < nr_vcpus; ++i) must(build.vp_init());
  for (const PageAdd& p : pages) {
    must(build.page_add(p.gpa));
    if (!p.measured) continue;
    for (uint64_t off = 0; off < kPage; off += kChunk) must(build.mr_extend(p.gpa + off));
  }
  must(build.mr_finalize());
}

const char* seamcall_status_name(uint64_t status) {
  switch (status & abi::kTdxStatusClassMask) {
    case abi::kTdxSuccess: return "TDX_SUCCESS";
    case abi::kTdxOperandInvalid: return "TDX_OPERAND_INVALID";
    case abi::kTdxOpStateIncorrect: return "TDX_OP_STATE_INCORRECT";
    case abi::kTdxNoVcpus: return "TDX_NO_VCPUS";
    case abi::kTdxMaxVcpusExceeded: return "TDX_MAX_VCPUS_EXCEEDED";
    case abi::kTdxEptEntryNotPresent: return "TDX_EPT_ENTRY_NOT_PRESENT";
    case abi::kTdxEptEntryStateIncorrect: return "TDX_EPT_ENTRY_STATE_INCORRECT";
    default: return "unknown status";
  }
}

}  // namespace tdsim::tdx
