#include "exec_options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/text_escape.h"
#include "gdbstub/loopback_endpoint.h"
#include "notice.h"

namespace tdsim::ukvm {

namespace {

ExecOptions read_options() {
  ExecOptions o;
  if (const char* v = std::getenv("TDSIM_KVM_EXPLAIN")) o.explain = std::strcmp(v, "1") == 0;
  if (const char* v = std::getenv("TDSIM_KVM_MAX_INSNS"); v && *v) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (errno || *end || n == 0 || v[0] == '-')
      notice("TDSIM_KVM_MAX_INSNS=" + escape_text(v) + " is not a positive count; ignored");
    else
      o.max_insns = n;
  }
  if (const char* v = std::getenv("TDSIM_KVM_TRACE"); v && *v) {
    std::string list = v;
    size_t at = 0;
    while (at <= list.size()) {
      const size_t comma = list.find(',', at);
      const std::string kind = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (kind == "boot") o.trace_boot = true;
      else if (kind == "tdcall") o.trace_tdcall = true;
      else if (kind == "insn") o.trace_insn = true;
      else notice("TDSIM_KVM_TRACE: unknown kind '" + escape_text(kind) + "' (boot, tdcall, insn); ignored");
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  if (const char* v = std::getenv("TDSIM_KVM_EVENTS"); v && *v) o.events_path = v;
  if (const char* v = std::getenv("TDSIM_KVM_GDB"); v && *v) {
    std::string why;
    o.gdb_port = gdbstub::parse_loopback_endpoint(v, &why);
    if (!o.gdb_port) notice("TDSIM_KVM_GDB: " + escape_text(why) + "; ignored");
  }
  return o;
}

}  // namespace

const ExecOptions& exec_options() {
  static const ExecOptions o = read_options();
  return o;
}

}  // namespace tdsim::ukvm
