// What `tdsim exec` asks of the user-space KVM, passed in the program's environment (the
// library has no command line): docs/userspace-kvm.md, "Environment".
//   TDSIM_KVM_EXPLAIN=1            a vCPU shutdown prints its fault explanation on stderr
//   TDSIM_KVM_MAX_INSNS=N          guest instructions each vCPU may run; past it the
//                                  program ends with exit status 124
//   TDSIM_KVM_TRACE=boot,tdcall,insn  trace lines on stderr
//   TDSIM_KVM_EVENTS=FILE          the vCPUs' events as JSON lines appended to FILE
//                                  (tdsim exec --format json --output FILE)
//   TDSIM_KVM_GDB=127.0.0.1:PORT   a gdb stub for the process's first TD (tdsim exec --gdb)
// A malformed value is reported once on stderr and ignored (the library cannot refuse to
// start the program; `tdsim exec` validates its options before setting them).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace tdsim::ukvm {

struct ExecOptions {
  bool explain = false;
  uint64_t max_insns = UINT64_MAX;
  bool trace_boot = false, trace_tdcall = false, trace_insn = false;
  std::string events_path;  // empty: no event file
  std::optional<uint16_t> gdb_port;  // listen there for gdb (0: a free port)
};

// Read from the environment once, at the first use.
const ExecOptions& exec_options();

}  // namespace tdsim::ukvm
