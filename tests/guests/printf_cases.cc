// PRINTFs every case of printf_cases.h in order, then the truncation case, then DONE.
#include "tests/guests/printf_cases.h"
#include "ucall/guest/guest.h"

extern "C" void guest_main(uint32_t) {
#define TDSIM_GUEST_PRINTF_CASE(expected, fmt, ...) GUEST_PRINTF(fmt __VA_OPT__(, ) __VA_ARGS__);
  TDSIM_PRINTF_CASES(TDSIM_GUEST_PRINTF_CASE)
#undef TDSIM_GUEST_PRINTF_CASE
  GUEST_PRINTF(tdsim::test::printf_cases::kTruncationFormat,
               tdsim::test::printf_cases::kTruncationArg);
  GUEST_DONE();
}
