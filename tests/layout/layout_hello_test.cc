// build_image() on the real examples/guests/hello ELF (built by the guest toolchain):
// what the runtime relies on is there.
#include <gtest/gtest.h>

#include <cstring>

#include "bootstub/host/image_builder.h"
#include "tdsim/abi/guest_config.h"
#include "tests/guests/test_assets.h"
#include "tests/layout/page_walker.h"

namespace tdsim {
namespace {

TEST(LayoutHello, RealGuestElfLoadsWithConfigIdtAndMappings) {
  LayoutSpec spec;
  spec.nr_vcpus = 2;
  spec.guest_elf = test::read_asset(TDSIM_GUEST_HELLO_ELF);
  spec.guest_elf_name = TDSIM_GUEST_HELLO_ELF;
  ASSERT_FALSE(spec.guest_elf.empty());
  const TdImage img = build_image(spec);

  const Symbol* cfg = nullptr;
  const Symbol* stubs = nullptr;
  for (const Symbol& s : img.symbols) {
    if (s.name == abi::kGuestConfigSymbol) cfg = &s;
    if (s.name == abi::kIdtStubsSymbol) stubs = &s;
  }
  ASSERT_NE(cfg, nullptr) << "the runtime defines tdsim_guest_config";
  ASSERT_NE(stubs, nullptr) << "the runtime defines tdsim_idt_stubs";

  const Region* r = img.region_at(cfg->addr);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, RegionKind::kGuestElf);
  abi::GuestConfig c;
  std::memcpy(&c, r->bytes.data() + (cfg->addr - r->gpa), sizeof c);
  EXPECT_EQ(c.magic, abi::kGuestConfigMagic);
  EXPECT_EQ(c.nr_vcpus, 2u);
  EXPECT_EQ(c.ucall_mmio_gpa, img.ucall_mmio_gpa | img.shared_bit);
  EXPECT_EQ(c.ucall_pool_gva, img.ucall_pool_gpa);

  const uint64_t gate0 = layouttest::read_u64(img, img.boot.idtr.base);
  EXPECT_EQ((gate0 & 0xffff) | ((gate0 >> 48) << 16), stubs->addr & 0xffffffff);

  EXPECT_GE(img.guest_entry, 0x400000u);
  EXPECT_EQ(img.region_at(img.guest_entry)->kind, RegionKind::kGuestElf);
  for (const Region& reg : img.regions)
    if (reg.kind == RegionKind::kGuestElf)
      for (uint64_t a = reg.gpa; a < reg.end(); a += 4096) {
        const auto t = layouttest::walk(img, a);
        ASSERT_TRUE(t) << reg.name << " page " << std::hex << a;
        EXPECT_EQ(t->target, a);
      }
  for (const auto& v : img.per_vcpu) EXPECT_EQ(v.guest_code, img.guest_entry);
}

}  // namespace
}  // namespace tdsim
