#include "uc_error.h"

#include <fmt/format.h>

#include "core/backend.h"

namespace tdsim::sim {

const char* uc_err_name(uc_err err) {
  switch (err) {
    case UC_ERR_OK: return "UC_ERR_OK";
    case UC_ERR_NOMEM: return "UC_ERR_NOMEM";
    case UC_ERR_ARCH: return "UC_ERR_ARCH";
    case UC_ERR_HANDLE: return "UC_ERR_HANDLE";
    case UC_ERR_MODE: return "UC_ERR_MODE";
    case UC_ERR_VERSION: return "UC_ERR_VERSION";
    case UC_ERR_READ_UNMAPPED: return "UC_ERR_READ_UNMAPPED";
    case UC_ERR_WRITE_UNMAPPED: return "UC_ERR_WRITE_UNMAPPED";
    case UC_ERR_FETCH_UNMAPPED: return "UC_ERR_FETCH_UNMAPPED";
    case UC_ERR_HOOK: return "UC_ERR_HOOK";
    case UC_ERR_INSN_INVALID: return "UC_ERR_INSN_INVALID";
    case UC_ERR_MAP: return "UC_ERR_MAP";
    case UC_ERR_WRITE_PROT: return "UC_ERR_WRITE_PROT";
    case UC_ERR_READ_PROT: return "UC_ERR_READ_PROT";
    case UC_ERR_FETCH_PROT: return "UC_ERR_FETCH_PROT";
    case UC_ERR_ARG: return "UC_ERR_ARG";
    case UC_ERR_READ_UNALIGNED: return "UC_ERR_READ_UNALIGNED";
    case UC_ERR_WRITE_UNALIGNED: return "UC_ERR_WRITE_UNALIGNED";
    case UC_ERR_FETCH_UNALIGNED: return "UC_ERR_FETCH_UNALIGNED";
    case UC_ERR_HOOK_EXIST: return "UC_ERR_HOOK_EXIST";
    case UC_ERR_OVERFLOW: return "UC_ERR_OVERFLOW";
    case UC_ERR_RESOURCE: return "UC_ERR_RESOURCE";
    case UC_ERR_EXCEPTION: return "UC_ERR_EXCEPTION";
  }
  return "UC_ERR_?";
}

void uc_check(uc_err err, const char* call) {
  if (err == UC_ERR_OK) return;
  throw BackendError(fmt::format("{}: {} ({})", call, uc_strerror(err), uc_err_name(err)));
}

}  // namespace tdsim::sim
