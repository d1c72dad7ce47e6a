// The C twin: twin_body.inc compiled as C11 (its C++ twin is cxx_twin.cc).
#include "ucall/guest/guest.h"
#include "twin_guest.h"

static uint64_t twin_vp_info(TdVpInfo* info) { return tdsim_tdg_vp_info(info); }
static VmcallRegs twin_tdvmcall(uint64_t subfn, uint64_t r12) { return tdsim_tdvmcall(subfn, r12, 0, 0, 0); }

#include "twin_body.inc"
