// Guest strings written to break the host's text, KTAP and JSON printers (bytes that
// are not UTF-8, terminal controls, forged result lines): see hostile_keys.h. The host
// must print them escaped and losslessly, and exit with the outcome's code.
#include "tests/hostile/hostile_keys.h"
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

namespace hk = tdsim::test::hostile;

extern "C" void guest_main(uint32_t vcpu) {
  switch (vcpu) {
    case 0:
      GUEST_PRINTF("%s", hk::kHostileText);
      GUEST_DONE();
      break;
    case 1:
      tdsim_ucall_assert(tdsim::abi::kUcallAbort, hk::kHostileExpr, hk::kHostileFile,
                         hk::kHostileLine, "%s", hk::kHostileText);
    case 2:
      tdsim::guest::tdvmcall(tdsim::abi::kVmcallReportFatalError, 0, 0, hk::kFatalR14, hk::kFatalR15);
      break;
    default:
      break;
  }
  tdsim::guest::halt_forever();
}
