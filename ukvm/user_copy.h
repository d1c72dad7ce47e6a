// Copies between the user-space KVM and the memory a program names in an ioctl argument.
// A real KVM reaches user memory with copy_from_user / copy_to_user and answers EFAULT for
// a pointer that is not mapped; these do the same through process_vm_readv / writev on
// our own pid, so a hostile pointer is an errno, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tdsim::ukvm {

// 0 when `len` bytes at user address `src` were copied to `dst`; -EFAULT otherwise.
int copy_from_user(void* dst, uint64_t src, size_t len);
// 0 when `len` bytes of `src` were written to user address `dst`; -EFAULT otherwise.
int copy_to_user(uint64_t dst, const void* src, size_t len);

template <class T>
int read_user(T& out, uint64_t src) {
  return copy_from_user(&out, src, sizeof out);
}
template <class T>
int write_user(uint64_t dst, const T& in) {
  return copy_to_user(dst, &in, sizeof in);
}

// 0 when every page of [addr, addr + len) is mapped readable and writable in this
// process; -EFAULT otherwise. Memory the TD's engine maps directly must exist and allow
// what a guest does to it, or the engine would fault on it.
int check_mapped(uint64_t addr, uint64_t len);

}  // namespace tdsim::ukvm
