// A GuestMemory's contents taken once, put back by copying only the pages that changed.
// Resetting by MADV_DONTNEED and copying the image again cost a page fault for every page
// the next run touched (half of a boot on Unicorn); this keeps every page resident and
// compares instead: the pages that held content when the snapshot was taken are compared
// with their copy, and pages that were zero are looked at only where the kernel has a
// page behind them, in memory or in swap (/proc/self/pagemap): a page nobody touched has
// none. The pagemap is asked for ranges of such pages (PAGEMAP_SCAN, Linux 6.7: one
// ioctl per run of blocks that follow each other in the host; pages it reports still on
// the kernel's zero page were only read and are skipped), or on older kernels read one
// entry per page. A run of a few pages is compared whole instead: cheaper than the ioctl.
// Without a readable pagemap every zero page is compared.
// The content pages are mapped, at their own addresses, as private copy-on-write pages of
// a memory file holding the snapshot (memfd): one nobody has written since is still the
// file's page, which the scan reports as such, so only the ones written at least once
// (anonymous copies now) are compared, not every content page at every restore. Hence
// GuestMemory::reset, which drops pages to make them zero, must not be used on a memory
// a snapshot was taken of: restore() is its reset.
// Between two restores nothing may have become present without the process taking a
// page fault (process_page_faults in memory_snapshot.cc), so while the process's fault
// count has not moved since the last restore began, the pages the kernel reported then
// (and every one restore() wrote) are still all the pages that can differ: they are
// compared again without asking the kernel at all. Any fault anywhere in the process, ours or not, sends the
// next restore back to the kernel's view.
// Engine-free; the memory must be the one the snapshot was taken of.
#pragma once
#include <cstdint>
#include <vector>

#include "guest_memory.h"

namespace tdsim {

class MemorySnapshot {
 public:
  // Copies the pages of `mem` that are not all zero; the zero ones are given back to the
  // kernel (their contents stay zero).
  explicit MemorySnapshot(GuestMemory& mem);
  ~MemorySnapshot();
  MemorySnapshot(const MemorySnapshot&) = delete;
  MemorySnapshot& operator=(const MemorySnapshot&) = delete;

  // Puts `mem` back to the snapshot's contents; returns the untagged GPA of every page
  // it had to write, in ascending order.
  std::vector<uint64_t> restore(GuestMemory& mem) const;

  // Pages held with content (the rest are zero).
  size_t content_pages() const { return pages_.size(); }
  // Reads one pagemap entry per page, as on kernels before PAGEMAP_SCAN (Linux 6.7).
  void read_pagemap_entries() { scan_works_ = false; }
  // Asks the kernel at every restore, as when the fault count cannot be read.
  void ask_the_kernel_every_time() { witness_ = false; }
  // Restores that asked the kernel (or compared every page) rather than only the pages
  // it had reported before.
  uint64_t full_restores() const { return full_restores_; }

 private:
  struct Page {
    size_t block;     // index into GuestMemory::blocks()
    uint64_t offset;  // within the block
    size_t copy;      // index of its 4 KiB in bytes_
  };
  static constexpr uint32_t kZeroPage = UINT32_MAX;
  std::vector<Page> pages_;                    // ascending by block, then offset
  std::vector<std::vector<uint32_t>> copy_;    // per block, per page: index into pages_, or kZeroPage
  std::vector<uint8_t> bytes_;
  // Maps the content pages from a memory file holding bytes_ (class comment); where that
  // fails they stay anonymous, and restore() compares them as before.
  void map_content_from_copy(GuestMemory& mem);
  int pagemap_ = -1;  // /proc/self/pagemap, or -1: compare every zero page
  mutable bool scan_works_ = true;  // PAGEMAP_SCAN, until the kernel refuses it
  // Blocks that follow each other in the host (GuestMemory lays runs of GPA out so),
  // scanned with one ioctl: each costs its own entry into the kernel.
  struct HostRun {
    uintptr_t begin, end;
    std::vector<size_t> blocks;  // ascending by host address
  };
  std::vector<HostRun> runs_;
  // Calls `page(host address, still the snapshot file's page)` for every page in
  // [begin, end) present or swapped, except those on the kernel's zero page; false where
  // the kernel has no PAGEMAP_SCAN (nothing more called).
  template <class F>
  bool scan_present(uintptr_t begin, uintptr_t end, F&& page) const;
  mutable std::vector<uint64_t> entries_;  // scratch for one block's pagemap entries
  // The pages the last full restore looked at (block, page index): every page with
  // anything of its own behind it. Valid while the fault count stays `faults_seen_`.
  struct Known {
    uint32_t block, page;
  };
  mutable std::vector<Known> known_;
  bool witness_ = true;                // false: the fault count is not trusted here
  mutable int64_t faults_seen_ = -1;   // at the start of the last restore; -1 none yet
  mutable uint64_t full_restores_ = 0;
};

}  // namespace tdsim
