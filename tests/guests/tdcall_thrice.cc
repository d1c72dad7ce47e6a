// The same TDCALL site run three times (TDG.VP.INFO in a loop, not inlined), whatever
// the ucall transport: a debugger test steps over it and sets breakpoints on it on
// every backend, including plain KVM, where ucalls are plain MMIO writes.
#include "ucall/guest/guest.h"
#include "ucall/guest/tdx_calls.h"

namespace {
__attribute__((noinline)) uint64_t vp_info() {
  tdsim::guest::TdVpInfo info{};
  return tdsim::guest::tdg_vp_info(info);
}
}  // namespace

extern "C" void guest_main(uint32_t) {
  for (int i = 0; i < 3; ++i) GUEST_ASSERT_EQ(vp_info(), 0);
  GUEST_DONE();
}
