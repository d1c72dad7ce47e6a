// Hostile arguments on every fd kind, in process: the KVM requests the user-space KVM
// knows (and some it does not), each with random bytes behind its pointer or a random
// pointer, from a fixed seed. Nothing may crash or hang, every result is a value or a
// negative errno, and no buffer is read or written beyond the struct KVM defines (the
// argument sits at the end of a page followed by an inaccessible one).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "kvm/tdx_uapi.h"
#include "ukvm/kvm_dispatch.h"

namespace {

namespace t = tdsim::kvm::tdx;

// A page of argument bytes followed by a PROT_NONE page: a read or write past the
// `_IOC_SIZE` bytes placed at its end is EFAULT, never a silent over-read.
struct GuardedArg {
  uint8_t* base;
  GuardedArg() {
    base = static_cast<uint8_t*>(mmap(nullptr, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    mprotect(base + 4096, 4096, PROT_NONE);
  }
  ~GuardedArg() { munmap(base, 2 * 4096); }
  // The argument for a request whose struct is `size` bytes: its last byte is the page's.
  unsigned long at_end(size_t size) { return reinterpret_cast<unsigned long>(base + 4096 - size); }
};

TEST(UkvmHostile, RandomArgumentsOnEveryFdKindNeverCrash) {
  const unsigned long requests[] = {
      KVM_GET_API_VERSION,      KVM_CHECK_EXTENSION,       KVM_GET_VCPU_MMAP_SIZE, t::kKvmGetSupportedCpuid,
      KVM_CREATE_VM,            KVM_CREATE_VCPU,           KVM_ENABLE_CAP,         KVM_CREATE_IRQCHIP,
      KVM_GET_TSC_KHZ,          t::kKvmCreateGuestMemfd,   KVM_SET_USER_MEMORY_REGION,
      t::kKvmSetUserMemoryRegion2, t::kKvmSetMemoryAttributes, t::kKvmMemoryEncryptOp, KVM_GET_STATS_FD,
      t::kKvmSetCpuid2,         t::kKvmGetCpuid2,          KVM_SET_MP_STATE,       KVM_GET_MP_STATE,
      KVM_GET_REGS,             KVM_RUN};
  std::mt19937_64 rng(0x5eed);
  GuardedArg arg;
  std::vector<int> fds;
  const int kvm = tdsim::ukvm::open_kvm(O_RDWR);
  ASSERT_GE(kvm, 0);
  fds.push_back(kvm);
  // stderr gets one line per unimplemented request; keep the run's output readable.
  const int saved_err = dup(2);
  const int devnull = open("/dev/null", O_WRONLY);
  dup2(devnull, 2);
  for (int i = 0; i < 20000; ++i) {
    const int fd = fds[rng() % fds.size()];
    unsigned long req = requests[rng() % std::size(requests)];
    if (rng() % 50 == 0) req = static_cast<unsigned long>(rng());  // any number at all
    const size_t size = std::min<size_t>(_IOC_SIZE(req), 4096);
    for (size_t b = 0; b < 4096; ++b) arg.base[b] = static_cast<uint8_t>(rng());
    // Mostly small counts and sizes, so the calls get past their first check.
    if (size >= 8 && rng() % 2) std::memset(arg.base + 4096 - size + 4, 0, 4);
    unsigned long a;
    switch (rng() % 4) {
      case 0: a = rng() % 300; break;                       // a value (caps, ids, types)
      case 1: a = static_cast<unsigned long>(rng()); break;  // a wild pointer
      default: a = arg.at_end(size ? size : 8); break;      // a guarded buffer
    }
    const long r = tdsim::ukvm::kvm_ioctl(fd, req, a);
    if (r < 0) {
      EXPECT_GE(r, -4095) << "request " << std::hex << req;
    } else if (r > 2 && tdsim::ukvm::owns_fd(static_cast<int>(r)) && static_cast<int>(r) != fd) {
      // A new object: keep a few of each to aim at, close the rest.
      if (fds.size() < 24) fds.push_back(static_cast<int>(r));
      else close(static_cast<int>(r));
    }
  }
  dup2(saved_err, 2);
  close(saved_err);
  close(devnull);
  for (int fd : fds) close(fd);
}

}  // namespace
