// Guest ELFs of hostile shape (issue 13): many PT_LOAD segments, and header fields
// libelf ignores. Touching segments are merged into one region; too many separate page
// ranges, or too many program headers, are refused naming guest_elf; entry sizes and e_shstrndx must describe the file.
#include <gtest/gtest.h>

#include "bootstub/host/elf_loader.h"
#include "bootstub/host/image_builder.h"
#include "bootstub/host/layout_spec.h"
#include "tests/layout/test_elf.h"

namespace tdsim {
namespace {

using layouttest::TestElf;
using layouttest::TestSegment;

// Text at 0x400000 (entry), then `n` one-page data segments starting at 0x402000 (a
// page apart from the text), each `stride` pages after the previous one.
TestElf many_segments(size_t n, uint64_t stride_pages) {
  TestElf e;
  e.entry = 0x400000;
  e.segments.push_back({0x400000, std::vector<uint8_t>(16, 0xf4), 0, PF_R | PF_X});
  for (size_t i = 0; i < n; ++i)
    e.segments.push_back({0x402000 + i * stride_pages * 0x1000, std::vector<uint8_t>(8, uint8_t(i)), 0x1000, PF_R | PF_W});
  return e;
}

LayoutSpec spec_for(const TestElf& e) {
  LayoutSpec s;
  s.guest_elf = e.build();
  s.guest_elf_name = "many.elf";
  s.mem_size = 128ull << 20;
  return s;
}

size_t count(const TdImage& img, RegionKind k) {
  size_t n = 0;
  for (const Region& r : img.regions) n += r.kind == k;
  return n;
}

std::string error_of(const LayoutSpec& s) {
  try {
    build_image(s);
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "guest_elf") << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

// Touching one-page segments (thousands of them) become one region, every byte in place.
TEST(LayoutManySegments, TouchingSegmentsBecomeOneRegion) {
  TestElf e = many_segments(3000, 1);
  LayoutSpec s = spec_for(e);
  s.mem_size = 128ull << 20;
  s.stacks_gpa = 0x4000000;  // past the segments
  s.ucall_pool_gpa = 0x5000000;
  const TdImage img = build_image(s);
  ASSERT_EQ(count(img, RegionKind::kGuestElf), 2u);  // the text, and the 3000 data pages
  const Region* d = img.region_at(0x402000);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->kind, RegionKind::kGuestElf);
  EXPECT_EQ(d->gpa, 0x402000u);
  EXPECT_EQ(d->size, 3000u * 0x1000);
  for (size_t i = 0; i < 3000; ++i) ASSERT_EQ(d->bytes[i * 0x1000], uint8_t(i)) << i;
}

// Segments sharing a page are one region and count once.
TEST(LayoutManySegments, SegmentsSharingAPageCountOnce) {
  TestElf e = many_segments(kMaxElfRegions - 1, 2);
  for (size_t i = 0; i < 40; ++i) e.segments.push_back({0x400100 + i * 0x10, std::vector<uint8_t>(4, 0xcc), 0, PF_R});
  const TdImage img = build_image(spec_for(e));
  EXPECT_EQ(count(img, RegionKind::kGuestElf), kMaxElfRegions);
}

TEST(LayoutManySegments, SeparateRangesAreBoundedNamingTheField) {
  // 255 data ranges + the text: exactly the bound, accepted.
  const TdImage img = build_image(spec_for(many_segments(kMaxElfRegions - 1, 2)));
  EXPECT_EQ(count(img, RegionKind::kGuestElf), kMaxElfRegions);
  const std::string msg = error_of(spec_for(many_segments(kMaxElfRegions, 2)));
  EXPECT_NE(msg.find("257 separate page ranges (touching ones merged)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at most 256"), std::string::npos) << msg;
}

TEST(LayoutManySegments, ProgramHeaderCountIsBounded) {
  const std::string msg = error_of(spec_for(many_segments(kMaxElfProgramHeaders, 1)));
  EXPECT_NE(msg.find("e_phnum 4097"), std::string::npos) << msg;
}

TEST(LayoutElfHeader, ProgramHeaderEntrySizeMustBeElf64) {
  for (uint16_t bad : {0, 1, 55, 57}) {
    LayoutSpec s = spec_for(many_segments(1, 1));
    reinterpret_cast<Elf64_Ehdr*>(s.guest_elf.data())->e_phentsize = bad;
    const std::string msg = error_of(s);
    EXPECT_NE(msg.find("e_phentsize " + std::to_string(bad)), std::string::npos) << msg;
  }
}

TEST(LayoutElfHeader, SectionStringTableIndexMustBeASection) {
  LayoutSpec s = spec_for(many_segments(1, 1));
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(s.guest_elf.data());
  ASSERT_NE(eh->e_shoff, 0u) << "the test ELF has section headers";
  eh->e_shstrndx = static_cast<uint16_t>(eh->e_shnum + 3);
  const std::string msg = error_of(s);
  EXPECT_NE(msg.find("e_shstrndx"), std::string::npos) << msg;
}

TEST(LayoutElfHeader, SectionHeaderEntrySizeMustBeElf64) {
  LayoutSpec s = spec_for(many_segments(1, 1));
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(s.guest_elf.data());
  ASSERT_NE(eh->e_shoff, 0u);
  eh->e_shentsize = 1;
  const std::string msg = error_of(s);
  EXPECT_NE(msg.find("e_shentsize 1"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tdsim
