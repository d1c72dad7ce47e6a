// tdsim exec --gdb: the gdb stub for a KVM program's TD. The program's threads own
// KVM_RUN, so the stub follows them (gdbstub/following_run_control.h) from a thread of
// its own, started at the first TD's KVM_TDX_FINALIZE_VM — the first moment a TD with
// vCPUs exists, so the library still starts no thread before a VM. The TD is held at the
// reset vector until gdb says otherwise. When the program exits, gdb waiting for a stop
// is told its exit status (W); gdb at its prompt is hung up on. gdb's `kill` ends the
// program with SIGKILL. docs/userspace-kvm.md, "gdb".
#pragma once

namespace tdsim::ukvm {

class TdEngine;

// With TDSIM_KVM_GDB set, the first TD this process finalizes gets the stub (later ones
// run without it, with one line on stderr). Errors are reported on stderr and leave the
// TD running without gdb.
void attach_gdb_if_asked(TdEngine& engine);

}  // namespace tdsim::ukvm
