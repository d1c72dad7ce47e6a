#include "kvm_sys.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

namespace tdsim::kvm {

void throw_errno(const std::string& what, int err) {
  throw BackendError(what + ": " + std::strerror(err));
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Mapping::reset() {
  if (addr_) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

int checked_ioctl(int fd, unsigned long request, unsigned long arg, const std::string& name) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);  // setup ioctls are restartable; KVM_RUN is not routed here
  if (r < 0) throw_errno(name);
  return r;
}

Fd open_dev_kvm() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_errno("open /dev/kvm");
  return Fd(fd);
}

}  // namespace tdsim::kvm
