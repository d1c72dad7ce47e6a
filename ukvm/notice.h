// The user-space KVM's one-line messages on stderr: a request it does not implement, an
// engine failure, a fault explanation. Written with write(2) so a message is one line
// even when several threads or processes print; guest-derived text is escaped.
#pragma once
#include <string>

namespace tdsim::ukvm {

// "tdsim-kvm: " + text + "\n" on stderr.
void notice(const std::string& text);
// Drops every notice while set (the ioctl fuzzer: millions of calls, most of them
// refused). A program never sets it.
void silence_notices(bool silent);
// The name of a KVM ioctl request ("KVM_CREATE_VM"), or its number in hex.
std::string ioctl_name(unsigned long request);
// One line naming an ioctl this library does not implement on `fd_kind`; returns -err.
long unimplemented(const char* fd_kind, unsigned long request, int err);

}  // namespace tdsim::ukvm
