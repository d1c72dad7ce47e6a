// libFuzzer harness: the user-space KVM's ioctl surface (ukvm/kvm_dispatch.h) called
// in-process, not through the preload's interposed ioctl. An input is a sequence of calls,
// each naming an fd kind (/dev/kvm, VM, vCPU, guest_memfd), an ioctl number (from the
// table of numbers ukvm implements, or raw) and argument bytes (format below; seeds are
// made by fuzz/make_kvm_ioctl_seeds.py).
//
// ukvm reaches the memory an argument names with process_vm_readv/writev on its own pid,
// as KVM does with copy_from_user: a fuzzed pointer would read and write the fuzzer's own
// heap, and ASan would report those scribbles as ukvm's. So every pointer a call carries,
// the argument itself and the ones embedded in its struct (kvm_tdx_cmd.data, a memory
// region's userspace_addr, KVM_TDX_INIT_MEM_REGION's source_addr), is steered into one
// harness-owned scratch mapping: its fuzzed value is kept as an offset into the scratch,
// and PROT_NONE guard pages on both sides turn any copy that runs off its end into the
// EFAULT a program would get. An integer argument stays as fuzzed only for the requests
// whose argument KVM defines as an integer.
//
// KVM_RUN is called, but this ukvm is compiled without the TD engine (no
// TDSIM_UKVM_HAVE_ENGINE, fuzz/CMakeLists.txt): it runs the pre-run checks and the
// completion read-back, then answers ENOSYS. The engine is left out because each input
// would build a Unicorn TD, and a guest's budget exit ends the process by design.
//
// Every input starts from no objects (forget_all_objects()) and closes every fd it made;
// the lowest free fd number after an input must equal the one before it (no fd leaks).
// Checks per call: a result is >= 0 or -errno (1..4095); an fd not handed out answers
// EBADF; a call that made an fd made one this library owns.
//
// Input format, little-endian, each call:
//   u8 kind       0 /dev/kvm, 1 VM, 2 vCPU, 3 guest_memfd (mod 4)
//   u8 which      fd of that kind made so far (mod count); for /dev/kvm, bit 7 opens a
//                 new one; no such fd yet: an fd this library did not hand out
//   u8 request    < 0xf0: kRequests[request % n]; else a raw u32 request follows
//   u64 imm       the argument of an integer-argument request
//   u16 offset    where the argument bytes go in the scratch (mod its size)
//   u16 len       argument bytes that follow (bounded by the input and the scratch)
//   ...bytes
// A truncated field reads as zeros.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kvm/tdx_uapi.h"
#include "ukvm/kvm_dispatch.h"
#include "ukvm/kvm_objects.h"
#include "ukvm/notice.h"

namespace {

namespace t = tdsim::kvm::tdx;
namespace u = tdsim::ukvm;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_kvm_ioctl: invariant violated: %s\n", what);
  std::abort();
}

// Every request ukvm answers on some fd kind; the fuzzer may send any of them to any kind.
constexpr unsigned long kRequests[] = {
    KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE, t::kKvmGetSupportedCpuid, KVM_CREATE_VM,
    KVM_CREATE_VCPU, KVM_ENABLE_CAP, KVM_CREATE_IRQCHIP, KVM_GET_TSC_KHZ, t::kKvmCreateGuestMemfd,
    KVM_SET_USER_MEMORY_REGION, t::kKvmSetUserMemoryRegion2, t::kKvmSetMemoryAttributes, t::kKvmMemoryEncryptOp,
    KVM_GET_STATS_FD, t::kKvmSetCpuid2, t::kKvmGetCpuid2, KVM_SET_MP_STATE, KVM_GET_MP_STATE, KVM_GET_REGS,
    KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU, KVM_SET_FPU, KVM_RUN,
};
constexpr size_t kNumRequests = sizeof kRequests / sizeof kRequests[0];

// The requests whose argument is an integer, not a pointer (api.rst). Every other request,
// known or not, gets a pointer into the scratch.
bool integer_argument(unsigned long request) {
  switch (request) {
    case KVM_GET_API_VERSION:
    case KVM_CHECK_EXTENSION:
    case KVM_GET_VCPU_MMAP_SIZE:
    case KVM_CREATE_VM:
    case KVM_CREATE_VCPU:
    case KVM_CREATE_IRQCHIP:
    case KVM_GET_TSC_KHZ:
    case KVM_GET_STATS_FD:
    case KVM_RUN: return true;
    default: return false;
  }
}

// The scratch every user pointer lands in, between two PROT_NONE guard pages.
constexpr size_t kPage = 4096;
constexpr size_t kScratchSize = 16 * kPage;
static_assert(kScratchSize <= 0x10000, "a u16 offset reaches every byte");

struct Scratch {
  uint8_t* lo = nullptr;
  Scratch() {
    void* m = mmap(nullptr, kScratchSize + 2 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    require(m != MAP_FAILED, "scratch mapping");
    lo = static_cast<uint8_t*>(m) + kPage;
    require(mprotect(lo, kScratchSize, PROT_READ | PROT_WRITE) == 0, "scratch mprotect");
  }
  uint64_t addr(uint64_t off) const { return reinterpret_cast<uint64_t>(lo) + off % kScratchSize; }
  bool holds(uint64_t a, size_t len) const {
    const uint64_t base = reinterpret_cast<uint64_t>(lo);
    return a >= base && len <= kScratchSize && a - base <= kScratchSize - len;
  }
  // Steers the pointer field at `field_off` of the struct of `size` bytes at `a`, if the
  // struct lies wholly in the scratch (else ukvm's copy of it fails with EFAULT before any
  // field is used). Unaligned: the fuzzer places structs anywhere.
  template <class T>
  bool get(uint64_t a, size_t size, size_t field_off, T& v) const {
    if (!holds(a, size)) return false;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(a) + field_off, sizeof v);
    return true;
  }
  template <class T>
  void put(uint64_t a, size_t field_off, const T& v) const {
    std::memcpy(reinterpret_cast<uint8_t*>(a) + field_off, &v, sizeof v);
  }
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

// A fuzzed pointer value kept as an offset into the scratch (0 stays null: EFAULT too).
uint64_t steer(uint64_t v) { return v == 0 ? 0 : scratch().addr(v); }

struct Reader {
  const uint8_t* p;
  size_t n;
  template <class T>
  T take() {
    T v{};
    const size_t k = n < sizeof v ? n : sizeof v;
    std::memcpy(&v, p, k);
    p += k, n -= k;
    return v;
  }
};

struct Fds {
  std::vector<int> of[4];  // by kind: /dev/kvm, VM, vCPU, guest_memfd
  std::vector<int> other;  // stats fds
  void close_all() {
    for (auto& v : of)
      for (int fd : v) close(fd);
    for (int fd : other) close(fd);
  }
};

// Rewrites the user pointers embedded in the argument struct at `arg` (already in the
// scratch) so they point into the scratch too; a guest_memfd fd field names one of ours.
void steer_embedded(unsigned long request, uint64_t arg, const Fds& fds) {
  const Scratch& s = scratch();
  if (request == t::kKvmMemoryEncryptOp) {
    uint32_t id = 0;
    uint64_t data = 0;
    if (!s.get(arg, sizeof(t::TdxCmd), offsetof(t::TdxCmd, id), id)) return;
    // INIT_VCPU's data is the vCPU's initial RCX and FINALIZE's is unused: integers. Every
    // other id's data is a pointer (an unknown id is refused before it is used).
    if (id == t::kTdxInitVcpu || id == t::kTdxFinalizeVm) return;
    s.get(arg, sizeof(t::TdxCmd), offsetof(t::TdxCmd, data), data);
    data = steer(data);
    s.put(arg, offsetof(t::TdxCmd, data), data);
    uint64_t source = 0;
    if (id == t::kTdxInitMemRegion &&
        s.get(data, sizeof(t::TdxInitMemRegion), offsetof(t::TdxInitMemRegion, source_addr), source))
      s.put(data, offsetof(t::TdxInitMemRegion, source_addr), steer(source));
  } else if (request == KVM_SET_USER_MEMORY_REGION || request == t::kKvmSetUserMemoryRegion2) {
    // Both structs have userspace_addr at offset 24; only the v2 struct names a guest_memfd.
    constexpr size_t kUaddr = offsetof(t::UserspaceMemoryRegion2, userspace_addr);
    static_assert(offsetof(kvm_userspace_memory_region, userspace_addr) == kUaddr);
    const size_t size = request == KVM_SET_USER_MEMORY_REGION ? sizeof(kvm_userspace_memory_region)
                                                              : sizeof(t::UserspaceMemoryRegion2);
    uint64_t uaddr = 0;
    if (s.get(arg, size, kUaddr, uaddr)) s.put(arg, kUaddr, steer(uaddr));
    uint32_t gmem = 0;
    if (request == t::kKvmSetUserMemoryRegion2 && !fds.of[3].empty() &&
        s.get(arg, size, offsetof(t::UserspaceMemoryRegion2, guest_memfd), gmem) && gmem < 0x80000000u)
      s.put(arg, offsetof(t::UserspaceMemoryRegion2, guest_memfd), static_cast<uint32_t>(fds.of[3][gmem % fds.of[3].size()]));
  }
}

bool makes_fd(unsigned long request, int kind) {
  return (kind == 0 && request == KVM_CREATE_VM) || (kind == 1 && request == KVM_CREATE_VCPU) ||
         (kind == 1 && request == t::kKvmCreateGuestMemfd) || ((kind == 1 || kind == 2) && request == KVM_GET_STATS_FD);
}

int lowest_free_fd() {
  const int fd = dup(0);
  require(fd >= 0, "dup");
  close(fd);
  return fd;
}

}  // namespace

// FUZZ_KVM_IOCTL_VERBOSE=1: each call and its result on stderr, and ukvm's notices (to
// check what a seed reaches).
bool g_verbose = false;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_verbose = std::getenv("FUZZ_KVM_IOCTL_VERBOSE") != nullptr;
  u::silence_notices(!g_verbose);
  scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Scratch& s = scratch();
  std::memset(s.lo, 0, kScratchSize);
  const int first_free = lowest_free_fd();
  Reader in{data, size};
  Fds fds;
  for (int calls = 0; in.n > 0 && calls < 64; ++calls) {
    const int kind = in.take<uint8_t>() % 4;
    const uint8_t which = in.take<uint8_t>();
    const uint8_t sel = in.take<uint8_t>();
    const unsigned long request = sel < 0xf0 ? kRequests[sel % kNumRequests] : in.take<uint32_t>();
    const uint64_t imm = in.take<uint64_t>();
    const uint16_t off = static_cast<uint16_t>(in.take<uint16_t>() % kScratchSize);
    size_t len = in.take<uint16_t>();
    len = std::min({len, in.n, kScratchSize - off});
    std::memcpy(s.lo + off, in.p, len);
    in.p += len, in.n -= len;

    std::vector<int>& mine = fds.of[kind];
    if (kind == 0 && (mine.empty() || (which & 0x80))) {
      const int fd = u::open_kvm(O_RDWR | O_CLOEXEC);
      require(fd >= 0 && u::owns_fd(fd), "open(/dev/kvm) gives an fd of ours");
      mine.push_back(fd);
    }
    const int fd = mine.empty() ? 0 : mine[which % mine.size()];  // fd 0 (stdin) is not ours

    const uint64_t arg = integer_argument(request) ? imm : s.addr(off);
    if (!integer_argument(request)) steer_embedded(request, arg, fds);
    const long r = u::kvm_ioctl(fd, request, arg);
    if (g_verbose) std::fprintf(stderr, "kind %d fd %d request %#lx arg %#lx -> %ld\n", kind, fd, request, arg, r);

    require(r >= -4095, "a result is >= 0 or -errno");
    require(r != 0 || !makes_fd(request, kind) || mine.empty(), "an fd-making call returns an fd, not 0");
    if (mine.empty()) require(r == -EBADF, "an fd not handed out answers EBADF");
    if (kind == 0 && !mine.empty() && request == KVM_GET_API_VERSION && imm == 0)
      require(r == 12, "KVM_GET_API_VERSION is 12");
    if (r > 0 && makes_fd(request, kind) && !mine.empty()) {
      require(u::owns_fd(static_cast<int>(r)), "a new fd is one of ours");
      if (request == KVM_GET_STATS_FD)
        fds.other.push_back(static_cast<int>(r));
      else
        fds.of[request == KVM_CREATE_VM ? 1 : request == KVM_CREATE_VCPU ? 2 : 3].push_back(static_cast<int>(r));
    }
  }
  fds.close_all();
  u::forget_all_objects();
  require(lowest_free_fd() == first_free, "every fd an input made is closed (no fd leak)");
  return 0;
}
