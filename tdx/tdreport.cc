#include "tdreport.h"

#include <openssl/sha.h>

#include <cstring>

#include "tdsim/abi/tdx.h"

namespace tdsim::tdx {

namespace {
void put_u64(TdReport& r, uint64_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) r[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
}  // namespace

TdReport build_tdreport(const TdReportInputs& in) {
  TdReport r{};
  // REPORTTYPE: type 0x81 (TDX), subtype 0, version 0, reserved 0.
  r[0] = abi::kTdReportTypeTdx;
  std::memcpy(&r[abi::kTdReportReportDataOffset], in.report_data.data(), in.report_data.size());
  std::memset(&r[abi::kTdReportMacOffset], kFakeMacByte, 32);
  put_u64(r, abi::kTdReportAttributesOffset, in.attributes);
  put_u64(r, abi::kTdReportXfamOffset, in.xfam);
  std::memcpy(&r[abi::kTdReportMrtdOffset], in.mrtd.data(), in.mrtd.size());
  std::memcpy(&r[abi::kTdReportMrConfigIdOffset], in.mrconfigid.data(), 48);
  std::memcpy(&r[abi::kTdReportMrOwnerOffset], in.mrowner.data(), 48);
  std::memcpy(&r[abi::kTdReportMrOwnerConfigOffset], in.mrownerconfig.data(), 48);
  for (size_t i = 0; i < in.rtmr.size(); ++i)
    std::memcpy(&r[abi::kTdReportRtmrOffset + abi::kRtmrSize * i], in.rtmr[i].data(), abi::kRtmrSize);
  return r;
}

Digest48 rtmr_extend(const Digest48& rtmr, const Digest48& data) {
  uint8_t buf[96];
  std::memcpy(buf, rtmr.data(), 48);
  std::memcpy(buf + 48, data.data(), 48);
  Digest48 out{};
  SHA384(buf, sizeof buf, out.data());
  return out;
}

}  // namespace tdsim::tdx
