// TDCALL leaves the TDX module answers itself, checked from inside the TD against the
// boot parameters and the host's MRTD prediction (docs/tdx-abi.md, "TDCALL leaves",
// "MRTD accumulation", "TDREPORT layout"). TDX-only.
#include "checks.h"
#include "conformance/conformance_abi.h"

namespace tdsim::conformance {

namespace {

alignas(1024) uint8_t g_report[2048];
alignas(64) uint8_t g_report_data[128];
alignas(64) uint8_t g_rtmr_data[128];

uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }
uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
bool all_zero(const uint8_t* p, int n) {
  for (int i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}
uint64_t mmio_read8(uint64_t gpa) {
  guest::VmcallRegs v = guest::tdvmcall(abi::kVmcallRequestMmio, 8, abi::kMmioRead, gpa);
  return v.r10 == abi::kVmcallSuccess ? v.r11 : 0;
}

constexpr uint64_t kInvalidRcx = abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx;
constexpr uint64_t kInvalidRdx = abi::kTdxOperandInvalid | abi::kTdxOperandIdRdx;

void vp_info_checks(uint32_t vcpu) {
  guest::TdVpInfo info{};
  const uint64_t st = guest::tdg_vp_info(info);
  expect_eq("vp_info.status", st, abi::kTdxSuccess);
  expect_eq("vp_info.gpaw", info.gpaw & 0x3f, guest::gpaw());
  expect_eq("vp_info.vcpu_index", info.vcpu_index, vcpu);
  expect_eq("vp_info.num_vcpus", info.num_vcpus(), guest::nr_vcpus());
  if (info.max_vcpus() >= info.num_vcpus())
    pass("vp_info.max_vcpus_ge_num");
  else
    fail("vp_info.max_vcpus_ge_num", "MAX_VCPUS %u < NUM_VCPUS %u", info.max_vcpus(), info.num_vcpus());
  expect_eq("vp_info.r11_reserved_zero", info.r11, 0);
}

void report_checks() {
  for (int i = 0; i < 64; ++i) g_report_data[i] = static_cast<uint8_t>(0xa0 + i);
  expect_eq("mr_report.status", guest::tdg_mr_report(addr(g_report), addr(g_report_data)), 0);
  expect_eq("mr_report.reporttype_tdx", g_report[0], abi::kTdReportTypeTdx);
  if (memcmp(g_report + abi::kTdReportReportDataOffset, g_report_data, 64) == 0)
    pass("mr_report.reportdata_copied");
  else
    fail("mr_report.reportdata_copied", "REPORTDATA at offset 128 differs from the input");
  if (all_zero(g_report + abi::kTdReportMrtdOffset, 48))
    fail("mr_report.mrtd_nonzero", "TDINFO.MRTD is all zeros");
  else
    pass("mr_report.mrtd_nonzero");

  const uint64_t dev = (guest::ucall_mmio_gpa() & ~guest::shared_bit()) + kMrtdDeviceOffset;
  if (mmio_read8(dev | guest::shared_bit()) != kMrtdMagic) {
    skip("mr_report.mrtd_matches_host_prediction", "host offers no MRTD device (predicted MRTD unknown)");
  } else {
    int bad = -1;
    for (int q = 0; q < 6 && bad < 0; ++q)
      if (mmio_read8((dev + 8 + 8 * q) | guest::shared_bit()) != le64(g_report + abi::kTdReportMrtdOffset + 8 * q))
        bad = q;
    if (bad < 0)
      pass("mr_report.mrtd_matches_host_prediction");
    else
      fail("mr_report.mrtd_matches_host_prediction", "MRTD bytes %d..%d differ", bad * 8, bad * 8 + 7);
  }
  expect_eq("mr_report.unaligned_report_gpa",
            guest::tdg_mr_report(addr(g_report) + 64, addr(g_report_data)), kInvalidRcx);
  expect_eq("mr_report.shared_report_gpa",
            guest::tdg_mr_report(addr(g_report) | guest::shared_bit(), addr(g_report_data)), kInvalidRcx);
  expect_eq("mr_report.unaligned_reportdata_gpa",
            guest::tdg_mr_report(addr(g_report), addr(g_report_data) + 8), kInvalidRdx);
}

void rtmr_checks() {
  uint8_t before[48 * 4];
  memcpy(before, g_report + abi::kTdReportRtmrOffset, sizeof before);
  for (int i = 0; i < 48; ++i) g_rtmr_data[i] = static_cast<uint8_t>(i);
  expect_eq("rtmr_extend.status", guest::tdg_mr_rtmr_extend(addr(g_rtmr_data), 2), 0);
  guest::tdg_mr_report(addr(g_report), addr(g_report_data));
  const uint8_t* after = g_report + abi::kTdReportRtmrOffset;
  if (memcmp(after + 96, before + 96, 48) != 0 && memcmp(after, before, 96) == 0 &&
      memcmp(after + 144, before + 144, 48) == 0)
    pass("rtmr_extend.changes_only_rtmr2");
  else
    fail("rtmr_extend.changes_only_rtmr2", "TDREPORT RTMR fields do not show exactly RTMR2 extended");
  expect_eq("rtmr_extend.bad_index", guest::tdg_mr_rtmr_extend(addr(g_rtmr_data), 4), kInvalidRdx);
  expect_eq("rtmr_extend.unaligned_gpa", guest::tdg_mr_rtmr_extend(addr(g_rtmr_data) + 8, 0), kInvalidRcx);
}

void accept_checks() {
  const uint64_t page = addr(g_report) & ~uint64_t{0xfff};
  expect_eq("page_accept.already_accepted", guest::tdg_mem_page_accept(page) & abi::kTdxStatusClassMask,
            abi::kTdxPageAlreadyAccepted);
  expect_eq("page_accept.reserved_bits", guest::tdg_mem_page_accept(page | 0x8), kInvalidRcx);
  expect_eq("page_accept.bad_level", guest::tdg_mem_page_accept(page | 3), kInvalidRcx);
  expect_eq("page_accept.shared_gpa", guest::tdg_mem_page_accept(page | guest::shared_bit()), kInvalidRcx);
}

}  // namespace

void tdx_leaf_checks(uint32_t vcpu) {
  if (skip_unless_td("tdx_leaves")) return;
  vp_info_checks(vcpu);
  if (vcpu != 0) return;
  report_checks();
  rtmr_checks();
  expect_eq("veinfo_get.no_ve_pending", guest::tdg_vp_veinfo_get(), abi::kTdxNoVeInfo);
  accept_checks();
  expect_eq("tdcall.unknown_leaf", guest::tdg_leaf(0x7f, 0) & abi::kTdxStatusClassMask,
            abi::kTdxOperandInvalid);
}

}  // namespace tdsim::conformance
