// The C++ twin: twin_body.inc compiled as C++ (its C twin is c_twin.c), through the
// tdsim::guest and tdsim::abi names.
#include "ucall/guest/guest.h"
#include "twin_guest.h"
#include "ucall/guest/tdx_calls.h"

using namespace tdsim::abi;
using tdsim::guest::TdVpInfo;
using tdsim::guest::VmcallRegs;

static uint64_t twin_vp_info(TdVpInfo* info) { return tdsim::guest::tdg_vp_info(*info); }
static VmcallRegs twin_tdvmcall(uint64_t subfn, uint64_t r12) { return tdsim::guest::tdvmcall(subfn, r12); }

#include "twin_body.inc"
