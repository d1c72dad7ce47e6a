#include "core/memory_snapshot.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <vector>

namespace tdsim {
namespace {

// A region with content over two of its four pages, and a zero region of 64 pages.
TdImage image() {
  TdImage img;
  std::vector<uint8_t> code(0x2000, 0);
  code[0] = 0x90;
  code[0x1fff] = 0xc3;
  img.regions = {Region{"code", RegionKind::kRam, 0x10000, 0x4000, code},
                 Region{"ram", RegionKind::kRam, 0x100000, 0x40000, {}}};
  return img;
}

// One zero RAM region.
TdImage ram_only(uint64_t gpa, uint64_t size) {
  TdImage img;
  img.regions = {Region{"ram", RegionKind::kRam, gpa, size, {}}};
  return img;
}

std::vector<uint8_t> contents(const GuestMemory& mem) {
  std::vector<uint8_t> all;
  for (const auto& b : mem.blocks()) all.insert(all.end(), b.host, b.host + b.size);
  return all;
}

// Where the pages a run touched are found: the pages the kernel reported last time,
// while the process took no page fault since; PAGEMAP_SCAN's ranges (where the kernel
// has it); or one pagemap entry per page.
enum class Find { kWitness, kScan, kEntries };
class MemorySnapshotBoth : public ::testing::TestWithParam<Find> {
 protected:
  void use(MemorySnapshot& snap) {
    if (GetParam() != Find::kWitness) snap.ask_the_kernel_every_time();
    if (GetParam() == Find::kEntries) snap.read_pagemap_entries();
  }
};
INSTANTIATE_TEST_SUITE_P(Pagemap, MemorySnapshotBoth, ::testing::Values(Find::kWitness, Find::kScan, Find::kEntries),
                         [](const auto& info) {
                           return info.param == Find::kWitness ? "Witness" : info.param == Find::kScan ? "Scan" : "Entries";
                         });

TEST_P(MemorySnapshotBoth, RestoresOnlyThePagesThatChanged) {
  const TdImage img = image();
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  use(snap);
  EXPECT_EQ(snap.content_pages(), 2u);
  EXPECT_EQ(contents(mem), before);  // giving zero pages back keeps them zero
  EXPECT_TRUE(snap.restore(mem).empty());

  const uint8_t x = 0x5a;
  ASSERT_TRUE(mem.write(0x11000, &x, 1));   // a content page
  ASSERT_TRUE(mem.write(0x12010, &x, 1));   // a zero page of the content region
  ASSERT_TRUE(mem.write(0x13fff, &x, 1));   // its last page
  ASSERT_TRUE(mem.write(0x120000, &x, 1));  // the zero region
  uint8_t read_only[8];
  ASSERT_TRUE(mem.read(0x130000, read_only, sizeof read_only));  // touched, not written
  EXPECT_EQ(snap.restore(mem), (std::vector<uint64_t>{0x11000, 0x12000, 0x13000, 0x120000}));
  EXPECT_EQ(contents(mem), before);
  EXPECT_TRUE(snap.restore(mem).empty());
}

// More separate touched ranges than one PAGEMAP_SCAN call returns (64).
TEST_P(MemorySnapshotBoth, ManyScatteredPages) {
  const TdImage img = ram_only(0x100000, 0x100000);
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  use(snap);
  std::vector<uint64_t> want;
  const uint8_t x = 0xa5;
  for (uint64_t gpa = 0x100000; gpa < 0x200000; gpa += 0x2000) {
    ASSERT_TRUE(mem.write(gpa + 0x10, &x, 1));
    want.push_back(gpa);
  }
  ASSERT_GT(want.size(), 64u);
  EXPECT_EQ(snap.restore(mem), want);
  EXPECT_EQ(contents(mem), before);
}

// Runs of a few pages are compared without asking the kernel, larger ones through it;
// either way every written page comes back, and a page the guest only read (left on the
// kernel's zero page) is not reported, however often restore() runs.
TEST_P(MemorySnapshotBoth, SmallAndLargeRunsAlike) {
  TdImage img;
  img.regions = {Region{"tiny", RegionKind::kRam, 0x10000, 0x2000, {}},
                 Region{"small", RegionKind::kRam, 0x40000, 0x8000, {}},
                 Region{"large", RegionKind::kRam, 0x400000, 0x400000, {}}};
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  use(snap);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    uint8_t seen[16];
    for (const uint64_t gpa : {0x10000ull, 0x47000ull, 0x400000ull, 0x5ff000ull, 0x7ff000ull})
      ASSERT_TRUE(mem.read(gpa, seen, sizeof seen));  // read only: mapped to the zero page
    const uint8_t x = static_cast<uint8_t>(0x11 + round);
    for (const uint64_t gpa : {0x11fffull, 0x40000ull, 0x47ff0ull, 0x401000ull, 0x600000ull, 0x7fffffull})
      ASSERT_TRUE(mem.write(gpa, &x, 1));
    EXPECT_EQ(snap.restore(mem),
              (std::vector<uint64_t>{0x11000, 0x40000, 0x47000, 0x401000, 0x600000, 0x7ff000}));
    EXPECT_EQ(contents(mem), before);
    EXPECT_TRUE(snap.restore(mem).empty());
  }
}

// Content pages of a large run are the snapshot file's own pages until written: a page
// written in one round only is restored then and reported in no later round, one
// written every round in every round, and pages never written keep their content.
TEST_P(MemorySnapshotBoth, ContentPagesWrittenOnceOrEveryTime) {
  std::vector<uint8_t> bytes(0x300000, 0);
  for (uint64_t off = 0; off < bytes.size(); off += 0x1000) bytes[off + 7] = static_cast<uint8_t>((off >> 12) | 0x80);
  for (uint64_t off = 0x100000; off < 0x200000; off += 0x1000) bytes[off + 7] = 0;  // a zero MiB between
  TdImage img;
  img.regions = {Region{"ram", RegionKind::kRam, 0x400000, 0x400000, bytes}};
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  use(snap);
  EXPECT_EQ(snap.content_pages(), 0x200u);
  EXPECT_EQ(contents(mem), before);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    uint8_t seen[16];
    ASSERT_TRUE(mem.read(0x420000, seen, sizeof seen));  // content, read only
    const uint8_t x = static_cast<uint8_t>(0xe0 + round);
    std::vector<uint64_t> want{0x401000, 0x580000, 0x6ff000};
    ASSERT_TRUE(mem.write(0x401010, &x, 1));  // content, every round
    ASSERT_TRUE(mem.write(0x580000, &x, 1));  // zero, every round
    ASSERT_TRUE(mem.write(0x6ff000 + 7, &x, 1));  // content, its last byte-7 marker
    if (round == 1) {
      ASSERT_TRUE(mem.write(0x433000, &x, 1));  // content, this round only
      want.insert(want.begin() + 1, 0x433000);
    }
    EXPECT_EQ(snap.restore(mem), want);
    EXPECT_EQ(contents(mem), before);
    EXPECT_TRUE(snap.restore(mem).empty());
  }
}

// Pages written again after a restore that found them are compared without asking the
// kernel, and still come back; a page written for the first time makes a page fault,
// and the restore after it asks the kernel again and finds it.
TEST(MemorySnapshot, KnownPagesWithoutTheKernelUntilAFault) {
  const TdImage img = ram_only(0x400000, 0x400000);
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  std::vector<uint64_t> got;
  got.reserve(16);  // no allocation below makes a fault of its own
  const uint8_t x = 0x77;
  ASSERT_TRUE(mem.write(0x401000, &x, 1));
  got = snap.restore(mem);
  EXPECT_EQ(got, std::vector<uint64_t>{0x401000});
  EXPECT_EQ(snap.full_restores(), 1u);
  // The heap and the test's own pages settle within a few rounds; after that, rounds
  // that write only found pages take no fault and need no full restore.
  uint64_t quiet = 0;
  for (int round = 0; round < 8; ++round) {
    const uint64_t full = snap.full_restores();
    ASSERT_TRUE(mem.write(0x401000 + round, &x, 1));
    got = snap.restore(mem);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], 0x401000u);
    if (snap.full_restores() == full) ++quiet;
  }
  EXPECT_GE(quiet, 4u);
  EXPECT_EQ(contents(mem), before);
  const uint64_t full = snap.full_restores();
  ASSERT_TRUE(mem.write(0x7ff000, &x, 1));  // a page nobody touched: a fault
  got = snap.restore(mem);
  EXPECT_EQ(got, std::vector<uint64_t>{0x7ff000});
  EXPECT_EQ(snap.full_restores(), full + 1);
  EXPECT_EQ(contents(mem), before);
}

// A page the kernel filled in a system call (here read() from a pipe) counts as a
// fault of this process too, and comes back.
TEST(MemorySnapshot, PagesFilledByTheKernelComeBack) {
  const TdImage img = ram_only(0x400000, 0x400000);
  GuestMemory mem(img);
  const std::vector<uint8_t> before = contents(mem);
  MemorySnapshot snap(mem);
  const uint8_t x = 0x77;
  for (int round = 0; round < 4; ++round) {  // settle on the fast path
    ASSERT_TRUE(mem.write(0x401000, &x, 1));
    snap.restore(mem);
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "guest", 5), 5);
  uint8_t* host = mem.blocks()[0].host + 0x123000;
  ASSERT_EQ(read(fds[0], host, 5), 5);
  close(fds[0]);
  close(fds[1]);
  EXPECT_EQ(snap.restore(mem), std::vector<uint64_t>{0x523000});
  EXPECT_EQ(contents(mem), before);
}

TEST(MemorySnapshot, RefusesOtherMemory) {
  const TdImage img = image();
  GuestMemory mem(img);
  MemorySnapshot snap(mem);
  TdImage other;
  other.regions = {Region{"one", RegionKind::kRam, 0x10000, 0x1000, {}}};
  GuestMemory small(other);
  EXPECT_THROW(snap.restore(small), std::logic_error);
}

}  // namespace
}  // namespace tdsim
