#include "core/guest_memory.h"

#include <gtest/gtest.h>

namespace tdsim {
namespace {

TdImage two_adjacent_regions() {
  TdImage img;
  Region a{"a", RegionKind::kRam, 0x1000, 0x1000, {'x', 'y'}};
  Region b{"b", RegionKind::kRam, 0x2000, 0x1000, {}};
  Region far{"far", RegionKind::kRam, 0x10000, 0x1000, {'h', 'i', 0}};
  img.regions = {a, b, far};
  return img;
}

TEST(GuestMemory, CopiesInitialBytesAndZeroFillsTheRest) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  char buf[3] = {1, 1, 1};
  ASSERT_TRUE(mem.read(0x1000, buf, 3));
  EXPECT_EQ(buf[0], 'x');
  EXPECT_EQ(buf[1], 'y');
  EXPECT_EQ(buf[2], 0);
}

TEST(GuestMemory, ReadCrossesContiguousBlocksButNotGaps) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  uint8_t buf[16];
  EXPECT_TRUE(mem.read(0x1ff8, buf, 16));
  EXPECT_FALSE(mem.read(0x2ff8, buf, 16));  // runs into the hole at 0x3000
  EXPECT_FALSE(mem.read(0x0, buf, 1));
  EXPECT_FALSE(mem.read(~0ull - 3, buf, 16));  // wraps
}

TEST(GuestMemory, FailedReadCopiesNothing) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  uint8_t buf[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
  EXPECT_FALSE(mem.read(0x2ffc, buf, 8));
  EXPECT_EQ(buf[0], 0xaa);
}

TEST(GuestMemory, WriteThenResetRestoresImage) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  const char z[2] = {'Q', 'R'};
  ASSERT_TRUE(mem.write(0x1000, z, 2));
  ASSERT_TRUE(mem.write(0x2800, z, 2));
  char buf[2];
  mem.read(0x1000, buf, 2);
  EXPECT_EQ(buf[0], 'Q');
  mem.reset(img);
  mem.read(0x1000, buf, 2);
  EXPECT_EQ(buf[0], 'x');
  mem.read(0x2800, buf, 2);
  EXPECT_EQ(buf[0], 0);
}

TEST(GuestMemory, StringsNeedTerminatorInsideMemoryAndLimit) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  std::string s;
  EXPECT_EQ(mem.read_string(0x10000, 16, s), GuestMemory::StringStatus::kOk);
  EXPECT_EQ(s, "hi");
  EXPECT_EQ(mem.read_string(0x10000, 1, s), GuestMemory::StringStatus::kNoTerminator);
  EXPECT_EQ(mem.read_string(0x5000, 16, s), GuestMemory::StringStatus::kOutOfRange);
  std::vector<uint8_t> full(0x1000, 'A');
  mem.write(0x10000, full.data(), full.size());
  EXPECT_EQ(mem.read_string(0x10000, 0x10000, s), GuestMemory::StringStatus::kOutOfRange);
  EXPECT_TRUE(s.empty());
}

TEST(GuestMemory, HostPtrOnlyWithinOneBlock) {
  TdImage img = two_adjacent_regions();
  GuestMemory mem(img);
  EXPECT_NE(mem.host_ptr(0x1000, 0x1000), nullptr);
  EXPECT_EQ(mem.host_ptr(0x1800, 0x1000), nullptr);
}

}  // namespace
}  // namespace tdsim

namespace tdsim {
namespace {

TEST(TdImageSymbols, SizedSymbolsOnlyNameTheirOwnBytes) {
  TdImage img;
  img.regions = {Region{"elf", RegionKind::kGuestElf, 0x400000, 0x10000, {}},
                 Region{"stub", RegionKind::kBootStub, 0xfffff000, 0x1000, {}}};
  img.symbols = {{"func", 0x400000, 0x20}, {"data", 0x401000, 0x8}, {"td_boot_start", 0xffffffba, 0},
                 {"td_boot_long64", 0xffffffed, 0}};
  ASSERT_NE(img.symbol_for(0x400010), nullptr);
  EXPECT_EQ(img.symbol_for(0x400010)->name, "func");
  EXPECT_EQ(img.symbol_for(0x400020), nullptr);
  EXPECT_EQ(img.symbol_for(0x405000), nullptr);
  EXPECT_EQ(img.symbol_for(0xffffffc0)->name, "td_boot_start");
  EXPECT_EQ(img.symbol_for(0xffffffee)->name, "td_boot_long64");
  EXPECT_EQ(img.symbol_for(0xfffff000), nullptr);
}

}  // namespace
}  // namespace tdsim

namespace tdsim {
namespace {

// Memory a program owns (the user-space KVM): no copy either way, nothing unmapped.
TEST(GuestMemory, ExternalBlocksAreTheOwnersBytes) {
  TdImage img;
  img.regions = {Region{"p", RegionKind::kRam, 0x1000, 0x2000, {}}};
  alignas(4096) static uint8_t owner[0x3000];
  {
    GuestMemory mem(img, {owner});
    owner[0x10] = 0x5a;
    uint8_t v = 0;
    ASSERT_TRUE(mem.read(0x1010, &v, 1));
    EXPECT_EQ(v, 0x5a);
    ASSERT_TRUE(mem.write(0x1020, "hi", 2));
    EXPECT_EQ(owner[0x20], 'h');
    EXPECT_THROW(mem.reset(img), std::logic_error);
    const Region more{"q", RegionKind::kRam, 0x8000, 0x1000, {}};
    mem.add_external(more, owner + 0x2000);
    ASSERT_TRUE(mem.write(0x8000, "x", 1));
    EXPECT_EQ(owner[0x2000], 'x');
    const Region overlapping{"r", RegionKind::kRam, 0x2000, 0x1000, {}};
    EXPECT_THROW(mem.add_external(overlapping, owner), std::invalid_argument);
    const Region unaligned{"u", RegionKind::kRam, 0x9000, 0x1000, {}};
    EXPECT_THROW(mem.add_external(unaligned, owner + 1), std::invalid_argument);
  }
  EXPECT_EQ(owner[0x10], 0x5a) << "still the owner's after the GuestMemory went";
  EXPECT_THROW(GuestMemory(img, {}), std::invalid_argument);
}

}  // namespace
}  // namespace tdsim
