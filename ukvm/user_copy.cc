#include "user_copy.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace tdsim::ukvm {

namespace {

// process_vm_* may copy part of the range and stop at the first unmapped page: only a
// full copy counts.
int transfer(void* local, uint64_t remote, size_t len, bool to_remote) {
  if (len == 0) return 0;
  if (remote + len < remote) return -EFAULT;
  iovec l{local, len};
  iovec r{reinterpret_cast<void*>(remote), len};
  const ssize_t n = to_remote ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
                              : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
  return n == static_cast<ssize_t>(len) ? 0 : -EFAULT;
}

}  // namespace

int copy_from_user(void* dst, uint64_t src, size_t len) { return transfer(dst, src, len, false); }

int copy_to_user(uint64_t dst, const void* src, size_t len) {
  return transfer(const_cast<void*>(src), dst, len, true);
}

int check_mapped(uint64_t addr, uint64_t len) {
  if (len == 0) return 0;
  if (addr + len < addr) return -EFAULT;
  // /proc/self/maps, not mincore: mincore counts a PROT_NONE or read-only page as
  // mapped, and the engine, which reads and writes guest memory through the host
  // mapping, would then take SIGSEGV on it.
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -EFAULT;
  std::string maps;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    maps.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // The lines are in address order: walk them with the first address not yet covered.
  const uint64_t end = addr + len;
  uint64_t covered = addr;
  for (size_t pos = 0; pos < maps.size() && covered < end;) {
    const size_t nl = maps.find('\n', pos);
    const std::string line = maps.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? maps.size() : nl + 1;
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (hi <= covered) continue;
    if (lo > covered) return -EFAULT;                    // a hole
    if (perms[0] != 'r' || perms[1] != 'w') return -EFAULT;  // the engine reads and writes it
    covered = hi;
  }
  return covered >= end ? 0 : -EFAULT;
}

}  // namespace tdsim::ukvm
