#include "user_copy.h"

#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

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
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (len == 0) return 0;
  if (addr + len < addr) return -EFAULT;
  const uint64_t start = addr & ~(page - 1);
  const uint64_t pages = (addr + len - start + page - 1) / page;
  // mincore fails with ENOMEM when any page of the range is unmapped; asked in chunks so
  // a huge range needs no huge vector.
  constexpr uint64_t kChunk = 4096;
  std::vector<unsigned char> vec(kChunk);
  for (uint64_t done = 0; done < pages;) {
    const uint64_t n = std::min(kChunk, pages - done);
    if (mincore(reinterpret_cast<void*>(start + done * page), n * page, vec.data()) != 0) return -EFAULT;
    done += n;
  }
  return 0;
}

}  // namespace tdsim::ukvm
