#include "diag/page_walk.h"

#include <gtest/gtest.h>

#include "test_image.h"

namespace tdsim::diag {
namespace {

using namespace test;
constexpr uint64_t P = 1, RW = 2, PS = 0x80, XD = 1ull << 63;

WalkParams params(uint64_t gva, Access a = Access::kRead) {
  WalkParams p;
  p.cr3 = kPml4;
  p.gva = gva;
  p.access = a;
  p.maxphyaddr = 48;
  p.shared_bit = kSharedBit;
  return p;
}

TEST(PageWalk, FourKiBLeafReportsEveryLevel) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kGdt + 0x10));
  ASSERT_EQ(r.verdict, WalkVerdict::kMapped);
  EXPECT_EQ(r.gpa, kGdt + 0x10);
  EXPECT_EQ(r.page_size, 4096u);
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].entry_gpa, kPml4);
  EXPECT_EQ(r.steps[1].entry_gpa, kPdpt);
  EXPECT_EQ(r.steps[2].entry_gpa, kPdLow);
  EXPECT_EQ(r.steps[3].entry_gpa, kPtLow + 8 * 8);
  EXPECT_EQ(r.steps[3].entry, kGdt | P | RW | XD);
  EXPECT_TRUE(r.writable);
  EXPECT_FALSE(r.executable);
  EXPECT_TRUE(r.backed);
}

TEST(PageWalk, TwoMiBLeafStopsAtPde) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kGuestCode + 0x1234, Access::kExec));
  ASSERT_EQ(r.verdict, WalkVerdict::kMapped);
  EXPECT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.page_size, 2u << 20);
  EXPECT_EQ(r.gpa, kGuestCode + 0x1234);
  EXPECT_TRUE(r.executable);
}

TEST(PageWalk, OneGiBLeafStopsAtPdpte) {
  TdImage im = make_valid_image();
  poke64(im, kPdpt + 1 * 8, 0x40000000 | P | RW | PS);
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(0x40001234));
  ASSERT_EQ(r.verdict, WalkVerdict::kMapped);
  EXPECT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.page_size, 1u << 30);
  EXPECT_EQ(r.gpa, 0x40001234u);
  EXPECT_FALSE(r.backed);  // nothing of the image lives at 1 GiB
}

TEST(PageWalk, NullPageIsNotPresentAtPte) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(0x10));
  EXPECT_EQ(r.verdict, WalkVerdict::kNotPresent);
  EXPECT_EQ(r.fault_level, 1);
  EXPECT_EQ(walk_summary(r, params(0x10)), "not present at PTE");
}

TEST(PageWalk, MissingPdpteNamesItsLevel) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(0x80000000));  // PDPT[2] is empty
  EXPECT_EQ(r.verdict, WalkVerdict::kNotPresent);
  EXPECT_EQ(r.fault_level, 3);
  EXPECT_EQ(r.steps.back().entry_gpa, kPdpt + 2 * 8);
}

TEST(PageWalk, ReservedBitsAboveMaxphyaddr) {
  TdImage im = make_valid_image();
  poke64(im, kPdLow + 2 * 8, kGuestCode | (1ull << 50) | P | RW | PS);
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kGuestCode));
  EXPECT_EQ(r.verdict, WalkVerdict::kReservedBit);
  EXPECT_EQ(r.fault_level, 2);
  EXPECT_EQ(r.reserved_bits, 1ull << 50);
  WalkParams wide = params(kGuestCode);
  wide.maxphyaddr = 52;  // the same bit is an address bit with GPAW 52
  EXPECT_EQ(page_walk(mem, wide).verdict, WalkVerdict::kMapped);
}

TEST(PageWalk, PsInPml4eIsReserved) {
  TdImage im = make_valid_image();
  poke64(im, kPml4, kPdpt | P | RW | PS);
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kGdt));
  EXPECT_EQ(r.verdict, WalkVerdict::kReservedBit);
  EXPECT_EQ(r.fault_level, 4);
  EXPECT_EQ(r.reserved_bits, PS);
}

TEST(PageWalk, MisalignedLargePageIsReserved) {
  TdImage im = make_valid_image();
  poke64(im, kPdpt + 1 * 8, 0x40000000 | (1ull << 13) | P | RW | PS);  // bit 13: 1 GiB reserved
  poke64(im, kPdLow + 2 * 8, kGuestCode | (1ull << 14) | P | RW | PS);  // bit 14: 2 MiB reserved
  GuestMemory mem(im);
  EXPECT_EQ(page_walk(mem, params(0x40000000)).reserved_bits, 1ull << 13);
  EXPECT_EQ(page_walk(mem, params(kGuestCode)).reserved_bits, 1ull << 14);
}

TEST(PageWalk, XdWithoutNxeIsReserved) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkParams p = params(kGdt);
  p.nxe = false;
  WalkResult r = page_walk(mem, p);
  EXPECT_EQ(r.verdict, WalkVerdict::kReservedBit);
  EXPECT_EQ(r.reserved_bits, XD);
}

TEST(PageWalk, WriteAndExecuteViolations) {
  TdImage im = make_valid_image();
  poke64(im, kPdLow + 2 * 8, kGuestCode | P | PS);  // read-only code
  GuestMemory mem(im);
  WalkResult w = page_walk(mem, params(kGuestCode, Access::kWrite));
  EXPECT_EQ(w.verdict, WalkVerdict::kWriteProtected);
  EXPECT_EQ(w.fault_level, 2);
  WalkParams no_wp = params(kGuestCode, Access::kWrite);
  no_wp.wp = false;  // CR0.WP=0: supervisor writes ignore R/W
  EXPECT_EQ(page_walk(mem, no_wp).verdict, WalkVerdict::kMapped);
  EXPECT_EQ(page_walk(mem, params(kStackBase, Access::kExec)).verdict, WalkVerdict::kNoExecute);
}

TEST(PageWalk, SharedLeafIsReportedAndUntagged) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kPool + 8, Access::kWrite));
  ASSERT_EQ(r.verdict, WalkVerdict::kMapped);
  EXPECT_TRUE(r.shared);
  EXPECT_EQ(r.gpa, kPool + 8 + kSharedBit);
  EXPECT_EQ(r.untagged_gpa(kSharedBit), kPool + 8);
  EXPECT_TRUE(r.backed);
}

TEST(PageWalk, SharedPagingStructureIsRefused) {
  TdImage im = make_valid_image();
  poke64(im, kPdpt, kPdLow | kSharedBit | P | RW);
  GuestMemory mem(im);
  WalkResult r = page_walk(mem, params(kGdt));
  EXPECT_EQ(r.verdict, WalkVerdict::kSharedTable);
  EXPECT_EQ(r.fault_level, 2);
}

TEST(PageWalk, TableOutsideMemoryAndNonCanonical) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkParams p = params(kGdt);
  p.cr3 = 0x7000000;
  WalkResult r = page_walk(mem, p);
  EXPECT_EQ(r.verdict, WalkVerdict::kTableOutsideMemory);
  EXPECT_EQ(r.fault_level, 4);
  EXPECT_EQ(page_walk(mem, params(0x0000800000000000ull)).verdict, WalkVerdict::kNonCanonical);
  EXPECT_EQ(page_walk(mem, params(0xffff800000000000ull)).verdict, WalkVerdict::kNotPresent);
}

TEST(PageWalk, FormatNamesEveryEntry) {
  TdImage im = make_valid_image();
  GuestMemory mem(im);
  WalkParams p = params(0x10);
  std::vector<std::string> lines = format_walk(page_walk(mem, p), p);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "page walk: read GVA 0x10, CR3 0x1000");
  EXPECT_EQ(lines[1], "  PML4E[0] @ GPA 0x1000 = 0x0000000000002003  P RW");
  EXPECT_EQ(lines[4], "  PTE[0] @ GPA 0x5000 = 0x0000000000000000  not present");
  EXPECT_EQ(lines[5], "  => not present at PTE");
}

}  // namespace
}  // namespace tdsim::diag
