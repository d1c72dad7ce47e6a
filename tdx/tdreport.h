// The 1024-byte TDREPORT_STRUCT the simulated TDG.MR.REPORT writes (docs/tdx-abi.md,
// "TDREPORT layout") and the RTMR extend rule (docs/tdx-abi.md, "TDCALL leaves").
// Pure functions over bytes: no engine, no guest memory.
// The MAC is not a MAC: no key exists outside a real CPU (docs/tdx-module-standin.md).
#pragma once
#include <array>
#include <cstdint>

namespace tdsim::tdx {

using Digest48 = std::array<uint8_t, 48>;
using TdReport = std::array<uint8_t, 1024>;

struct TdReportInputs {
  uint64_t attributes = 0;
  uint64_t xfam = 0;
  Digest48 mrtd{};
  Digest48 mrconfigid{}, mrowner{}, mrownerconfig{};
  std::array<Digest48, 4> rtmr{};
  std::array<uint8_t, 64> report_data{};
};

// Every byte the simulator has no source for (CPUSVN, TEE_TCB_INFO, SERVTD_HASH, ...)
// is 0; the MAC is kFakeMacByte repeated, so nobody mistakes it for one.
inline constexpr uint8_t kFakeMacByte = 0xee;
TdReport build_tdreport(const TdReportInputs& in);

// RTMR := SHA-384(RTMR || data) (TDG.MR.RTMR.EXTEND). OpenSSL.
Digest48 rtmr_extend(const Digest48& rtmr, const Digest48& data);

}  // namespace tdsim::tdx
