// Turns a failed uc_* call into a BackendError naming the call and uc_strerror, and
// names uc_err values for fault reports. Unicorn-only; knows nothing of TDX.
#pragma once
#include <unicorn/unicorn.h>

#include <string>

namespace tdsim::sim {

// Throws BackendError("<call>: <uc_strerror> (UC_ERR_x)") unless err == UC_ERR_OK.
void uc_check(uc_err err, const char* call);

// "UC_ERR_READ_UNMAPPED" etc.
const char* uc_err_name(uc_err err);

}  // namespace tdsim::sim
