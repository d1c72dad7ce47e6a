// Inputs the fuzz harnesses once crashed on (fuzz/corpus/*/regress_*), replayed through
// the normal build so a regression fails the ordinary test suite, not only the fuzz build.
#include <elf.h>
#include <gtest/gtest.h>

#include "bootstub/host/image_builder.h"
#include "tests/guests/test_assets.h"

namespace tdsim {
namespace {

// fuzz_guest_elf: a PT_LOAD at vaddr 0 with p_memsz 0xffff...ff (ends in the top page)
// rounded to an empty page range, slipped past placement, and built an image without
// the guest code. It must be a LayoutError naming the wrap. (The input's section header
// table is also cut off, and its e_phentsize is 54, not 56: both later-added checks, so
// drop the table and fix the entry size — libelf read 56-byte entries anyway — so the
// segment rule is what fires.)
TEST(FuzzRegression, SegmentEndingInTheTopPageIsRejected) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(TDSIM_FUZZ_CORPUS "/fuzz_guest_elf/regress_top_page_segment.elf");
  ASSERT_GE(spec.guest_elf.size(), sizeof(Elf64_Ehdr));
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(spec.guest_elf.data());
  eh->e_shoff = 0;
  eh->e_shnum = 0;
  eh->e_phentsize = sizeof(Elf64_Phdr);
  try {
    build_image(spec);
    FAIL() << "built an image from a segment that wraps the address space";
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "guest_elf");
    EXPECT_NE(std::string(e.what()).find("wraps around"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tdsim
