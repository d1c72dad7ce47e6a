// TDG.MR.REPORT from a running guest: the TDREPORT goes to a global the host reads back
// (sync_global_from_guest) to compare its MRTD with `tdsim measure` for the same image.
#include "tests/guests/report_keys.h"
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

// Unmangled so the host finds them; the guest ELF is identity mapped, so the address of
// each is its GPA, and both are private (the ELF is private memory).
extern "C" {
alignas(1024) uint8_t tdsim_test_tdreport[1024];
alignas(64) uint8_t tdsim_test_reportdata[64];
}

extern "C" void guest_main(uint32_t) {
  const uint64_t status = tdsim::guest::tdg_mr_report(reinterpret_cast<uint64_t>(tdsim_test_tdreport),
                                                      reinterpret_cast<uint64_t>(tdsim_test_reportdata));
  GUEST_ASSERT_EQ(status, 0);
  GUEST_DONE();
}
