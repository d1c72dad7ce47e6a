#include "memory_snapshot.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tdsim {

namespace {

constexpr uint64_t kPage = 4096;
// /proc/self/pagemap: one 64-bit entry per virtual page; bit 63 present, bit 62 swapped.
constexpr uint64_t kPagePresent = 1ull << 63, kPageSwapped = 1ull << 62;

// PAGEMAP_SCAN (Linux 6.7, uapi linux/fs.h; older headers lack it): an ioctl on the
// pagemap that returns only the ranges of pages in the asked categories, instead of one
// entry per page. Kernels without it refuse the ioctl and restore() reads entries.
struct PageRegion {
  uint64_t start, end, categories;
};
struct PmScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr uint64_t kScanFile = 1u << 2, kScanPresent = 1u << 3, kScanSwapped = 1u << 4, kScanPfnZero = 1u << 5;

// A host run this small is compared page by page instead of asked of the kernel: one
// PAGEMAP_SCAN costs about 1.3 us however short its range (the entry, the walk's set-up,
// the copy-out), a compare of a page still mapped to the kernel's zero page a few dozen
// nanoseconds (every such page is the same cached 4 KiB).
constexpr uint64_t kCompareWithoutKernel = 8 * kPage;

// Page faults taken by every thread of the process so far, or -1. A page of anonymous
// or private memory comes to have a page of its own only through the fault handler, and
// the kernel charges each fault to the thread that needed the page: a load or store, a
// system call copying in or out (read(), process_vm_writev on ourselves) and
// MADV_POPULATE alike. What does not: another process writing here (a debugger through
// ptrace), and khugepaged folding pages into a huge page, which the constructor rules
// out with MADV_NOHUGEPAGE. One system call, about 0.8 us on the measured machine
// (docs/performance.md), against the pagemap walk's several.
int64_t process_page_faults() {
  rusage r{};
  if (getrusage(RUSAGE_SELF, &r) != 0) return -1;
  return static_cast<int64_t>(r.ru_minflt) + static_cast<int64_t>(r.ru_majflt);
}

bool all_zero(const uint8_t* p) {
  static const uint8_t zero[kPage] = {};
  return std::memcmp(p, zero, kPage) == 0;
}

}  // namespace

MemorySnapshot::MemorySnapshot(GuestMemory& mem) {
  const auto& blocks = mem.blocks();
  copy_.resize(blocks.size());
  for (size_t b = 0; b < blocks.size(); ++b) {
    copy_[b].assign(blocks[b].size / kPage, kZeroPage);
    uint64_t zero_from = 0;  // start of the current run of zero pages
    for (uint64_t off = 0; off <= blocks[b].size; off += kPage) {
      const uint8_t* p = blocks[b].host + off;
      if (off < blocks[b].size && all_zero(p)) continue;
      // Reading a zero page (this loop, the TD build's measurement) mapped the kernel's
      // zero page there; dropping the mapping again lets restore() skip it until the
      // guest touches it. Only a hint: were it refused, restore() would compare more.
      if (off > zero_from) madvise(blocks[b].host + zero_from, off - zero_from, MADV_DONTNEED);
      zero_from = off + kPage;
      if (off == blocks[b].size) break;
      copy_[b][off / kPage] = static_cast<uint32_t>(pages_.size());
      pages_.push_back({b, off, bytes_.size() / kPage});
      bytes_.insert(bytes_.end(), p, p + kPage);
    }
  }
  map_content_from_copy(mem);
  // khugepaged would otherwise be free to make pages present behind the fault count's
  // back (process_page_faults). A kernel without transparent huge pages refuses the
  // advice (EINVAL) and has no khugepaged either.
  for (const auto& b : blocks)
    if (madvise(b.host, b.size, MADV_NOHUGEPAGE) != 0 && errno != EINVAL) witness_ = false;
  pagemap_ = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  std::vector<size_t> by_host(blocks.size());
  for (size_t b = 0; b < blocks.size(); ++b) by_host[b] = b;
  std::sort(by_host.begin(), by_host.end(), [&](size_t x, size_t y) { return blocks[x].host < blocks[y].host; });
  for (const size_t b : by_host) {
    const auto at = reinterpret_cast<uintptr_t>(blocks[b].host);
    if (runs_.empty() || runs_.back().end != at) runs_.push_back({at, at, {}});
    runs_.back().end = at + blocks[b].size;
    runs_.back().blocks.push_back(b);
  }
}

MemorySnapshot::~MemorySnapshot() {
  if (pagemap_ >= 0) close(pagemap_);
}

void MemorySnapshot::map_content_from_copy(GuestMemory& mem) {
  if (pages_.empty()) return;
  const int fd = memfd_create("tdsim-snapshot", MFD_CLOEXEC);
  if (fd < 0) return;
  const auto len = static_cast<off_t>(bytes_.size());
  bool ok = ftruncate(fd, len) == 0;
  for (off_t at = 0; ok && at < len;) {
    const ssize_t n = pwrite(fd, bytes_.data() + at, static_cast<size_t>(len - at), at);
    ok = n > 0;
    at += ok ? n : 0;
  }
  // Each stretch of content pages that lie next to each other in a block and in the copy
  // is mapped in one piece, over the anonymous pages (same addresses: the engines keep
  // their pointers). A piece that fails stays anonymous, which restore() compares.
  for (size_t i = 0; ok && i < pages_.size();) {
    size_t j = i + 1;
    while (j < pages_.size() && pages_[j].block == pages_[i].block &&
           pages_[j].offset == pages_[i].offset + (j - i) * kPage)
      ++j;
    uint8_t* at = mem.blocks()[pages_[i].block].host + pages_[i].offset;
    void* got = mmap(at, (j - i) * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                     static_cast<off_t>(pages_[i].copy * kPage));
    if (got == MAP_FAILED) {
      // MAP_FIXED unmaps before it maps: put anonymous pages with the content back.
      got = mmap(at, (j - i) * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
      if (got == MAP_FAILED) throw std::runtime_error("MemorySnapshot: guest memory lost at a failed remap");
      std::memcpy(at, bytes_.data() + pages_[i].copy * kPage, (j - i) * kPage);
    }
    i = j;
  }
  close(fd);  // the mappings keep the file
}

std::vector<uint64_t> MemorySnapshot::restore(GuestMemory& mem) const {
  std::vector<uint64_t> written;
  const auto& blocks = mem.blocks();
  if (blocks.size() != copy_.size())
    throw std::logic_error("MemorySnapshot::restore: not the memory the snapshot was taken of");
  // The fault count is read before anything here can fault: a fault during this
  // restore (a compare reading a swapped-out page back) only makes the next one full.
  const int64_t faults = witness_ ? process_page_faults() : -1;
  const bool only_known = faults >= 0 && faults == faults_seen_;
  faults_seen_ = faults;
  auto restore_page = [&](size_t b, size_t i) {
    if (!only_known) known_.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(i)});
    uint8_t* p = blocks[b].host + i * kPage;
    if (copy_[b][i] == kZeroPage) {
      if (all_zero(p)) return;
      std::memset(p, 0, kPage);
    } else {
      const uint8_t* orig = bytes_.data() + pages_[copy_[b][i]].copy * kPage;
      if (std::memcmp(p, orig, kPage) == 0) return;
      std::memcpy(p, orig, kPage);
    }
    written.push_back(blocks[b].gpa + i * kPage);
  };
  if (only_known) {
    for (const Known& k : known_) restore_page(k.block, k.page);
    std::sort(written.begin(), written.end());
    return written;
  }
  ++full_restores_;
  known_.clear();
  // A block of 32 MiB of RAM has 8192 pagemap entries and a boot touches a few dozen
  // of its pages: the scan's ranges are much cheaper to get than every entry.
  std::vector<bool> done(blocks.size(), false);
  if (scan_works_ && pagemap_ >= 0) {
    for (const HostRun& run : runs_) {
      if (run.end - run.begin <= kCompareWithoutKernel) continue;  // compared below
      size_t k = 0;  // the run's block holding the page (pages come in ascending order)
      const bool scanned = scan_present(run.begin, run.end, [&](uintptr_t page, bool from_copy) {
        while (reinterpret_cast<uintptr_t>(blocks[run.blocks[k]].host) + blocks[run.blocks[k]].size <= page) ++k;
        const size_t b = run.blocks[k];
        const size_t i = (page - reinterpret_cast<uintptr_t>(blocks[b].host)) / kPage;
        // Still the snapshot's own page (nobody wrote it since): nothing to compare. A
        // content page the kernel has no page for at all is not reported: the same.
        if (from_copy && copy_[b][i] != kZeroPage) return;
        restore_page(b, i);
      });
      if (!scanned) break;
      for (const size_t b : run.blocks) done[b] = true;
    }
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (done[b]) continue;
    const GuestMemory::Block& blk = blocks[b];
    const size_t n = blk.size / kPage;
    // Which pages have anything behind them; all of them when the pagemap cannot say.
    bool known = false;
    if (pagemap_ >= 0 && blk.size > kCompareWithoutKernel) {
      entries_.resize(n);
      const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(blk.host) / kPage * sizeof(uint64_t));
      const ssize_t want = static_cast<ssize_t>(n * sizeof(uint64_t));
      known = pread(pagemap_, entries_.data(), static_cast<size_t>(want), at) == want;
    }
    for (size_t i = 0; i < n; ++i)
      if (copy_[b][i] != kZeroPage || !known || (entries_[i] & (kPagePresent | kPageSwapped))) restore_page(b, i);
  }
  std::sort(written.begin(), written.end());
  return written;
}

template <class F>
bool MemorySnapshot::scan_present(uintptr_t begin, uintptr_t end, F&& page) const {
  PageRegion ranges[64];
  for (uint64_t at = begin; at < end;) {
    PmScanArg arg{};
    arg.size = sizeof arg;
    arg.start = at;
    arg.end = end;
    arg.vec = reinterpret_cast<uintptr_t>(ranges);
    arg.vec_len = std::size(ranges);
    arg.category_anyof_mask = kScanPresent | kScanSwapped;
    // A page still mapped to the kernel's zero page (the guest only read it) is zero: it
    // needs no compare. A file page is the snapshot's copy itself (map_content_from_copy).
    arg.return_mask = kScanPresent | kScanSwapped | kScanPfnZero | kScanFile;
    const int got = ioctl(pagemap_, kPagemapScan, &arg);
    if (got < 0 || arg.walk_end <= at || arg.walk_end > end) {
      // Not this kernel (or an answer that makes no sense): entries from now on. The
      // pages already restored compare equal on the second look, so none is reported twice.
      scan_works_ = false;
      return false;
    }
    for (int r = 0; r < got; ++r) {
      if (ranges[r].categories & kScanPfnZero) continue;
      const bool file = (ranges[r].categories & kScanFile) != 0;
      for (uint64_t p = ranges[r].start; p < ranges[r].end; p += kPage) page(static_cast<uintptr_t>(p), file);
    }
    at = arg.walk_end;
  }
  return true;
}

}  // namespace tdsim
