// Reports what the TD's configuration shows inside: TDG.VP.INFO's ATTRIBUTES (RDX) and
// NUM/MAX_VCPUS (R8), CPUID 0xd.0 EAX (the XCR0 bits XFAM allows) and CPUID 7.0 ECX
// (PKS, bit 31, follows ATTRIBUTES.PKS), then TDREPORT's XFAM and the first 8 bytes of
// MRCONFIGID, MROWNER and MROWNERCONFIG.
#include <stdint.h>

#include "tdsim/abi/tdx.h"
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

extern "C" {
alignas(1024) uint8_t tdsim_test_config_report[1024];
alignas(64) uint8_t tdsim_test_config_reportdata[64];
}

namespace {
uint64_t u64_at(uint64_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | tdsim_test_config_report[off + i];
  return v;
}
}  // namespace

extern "C" void guest_main(uint32_t) {
  tdsim::guest::TdVpInfo info;
  GUEST_ASSERT_EQ(tdsim::guest::tdg_vp_info(info), 0);
  GUEST_SYNC_ARGS(1, info.attributes, info.vcpus, tdsim::guest::cpuid(0xd, 0).eax, tdsim::guest::cpuid(7, 0).ecx);
  GUEST_ASSERT_EQ(tdsim::guest::tdg_mr_report(reinterpret_cast<uint64_t>(tdsim_test_config_report),
                                              reinterpret_cast<uint64_t>(tdsim_test_config_reportdata)),
                  0);
  GUEST_SYNC_ARGS(2, u64_at(tdsim::abi::kTdReportXfamOffset), u64_at(tdsim::abi::kTdReportMrConfigIdOffset),
                  u64_at(tdsim::abi::kTdReportMrOwnerOffset), u64_at(tdsim::abi::kTdReportMrOwnerConfigOffset));
  GUEST_DONE();
}
