// RAII owners for the kernel objects a KVM backend holds (fds, mmaps) and the one ioctl
// wrapper that turns a failure into a BackendError naming the ioctl and its errno.
// Knows nothing about TDs or events; used by the plain and the TDX backend alike.
#pragma once
#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

#include "core/backend.h"

namespace tdsim::kvm {

// "<what>: <strerror(err)>", e.g. "KVM_CREATE_VM: Invalid argument".
[[noreturn]] void throw_errno(const std::string& what, int err = errno);

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~Mapping() { reset(); }
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  void* get() const { return addr_; }
  size_t size() const { return size_; }
  void reset();

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// ioctl(fd, request, arg); throws BackendError("<name>: <errno text>") on -1.
// Returns the ioctl's non-negative result (a new fd for the CREATE_* ioctls).
int checked_ioctl(int fd, unsigned long request, unsigned long arg, const std::string& name);
template <class T>
int checked_ioctl(int fd, unsigned long request, T* arg, const std::string& name) {
  return checked_ioctl(fd, request, reinterpret_cast<unsigned long>(arg), name);
}

// Opens /dev/kvm read-write; throws "open /dev/kvm: <errno text>".
Fd open_dev_kvm();

}  // namespace tdsim::kvm
