// The user-space KVM's entry points, the same in-process (unit tests) and behind the
// preload library's open/ioctl interposers (interpose.cc): open /dev/kvm, recognise the
// fds it handed out, and answer an ioctl on one with KVM's result or errno. One dispatch
// per fd kind (/dev/kvm here, the VM in td_vm.cc, the vCPU in td_vcpu.cc).
#pragma once
#include <optional>
#include <string>

#include "bootstub/measure/mrtd.h"

namespace tdsim::ukvm {

// open("/dev/kvm", flags): a new /dev/kvm fd, or -errno.
int open_kvm(int flags);
// A read-only fd holding `contents` (a module parameter's sysfs file), or -errno.
int open_text(const std::string& contents);
// Whether `fd` is one this library handed out (any kind).
bool owns_fd(int fd);
// An ioctl on an fd this library handed out: the result (>= 0) or -errno; -EBADF for an
// fd it did not hand out. Never throws.
long kvm_ioctl(int fd, unsigned long request, unsigned long arg);
// The MRTD the TDX module's build of the TD behind VM fd `fd` accumulated, once
// KVM_TDX_FINALIZE_VM succeeded (tests; a program reads it through TDG.MR.REPORT).
std::optional<measure::Mrtd> td_mrtd(int fd);

}  // namespace tdsim::ukvm
