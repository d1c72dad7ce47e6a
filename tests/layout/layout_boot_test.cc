// What the stub and guest find at boot: params page, reset vector and stub placement,
// GDT/IDT/TSS, GuestConfig, loaded ELF bytes and symbols.
#include <gtest/gtest.h>

#include <cstring>

#include "bootstub/host/image_builder.h"
#include "bootstub/stub/builtin_stub.h"
#include "tdsim/abi/guest_config.h"
#include "tests/layout/page_walker.h"
#include "tests/layout/test_elf.h"

namespace tdsim {
namespace {

using layouttest::read_u64;

LayoutSpec spec_with(const layouttest::TestElf& elf, uint32_t nr_vcpus = 1) {
  LayoutSpec s;
  s.nr_vcpus = nr_vcpus;
  s.guest_elf = elf.build();
  return s;
}

const uint8_t* bytes_at(const TdImage& img, uint64_t gpa, uint64_t len) {
  const Region* r = img.region_at(gpa);
  if (!r || gpa + len > r->gpa + r->bytes.size()) return nullptr;
  return r->bytes.data() + (gpa - r->gpa);
}

TEST(LayoutBoot, ParamsPageHoldsBootAndPerVcpuEntries) {
  const TdImage img = build_image(spec_with(layouttest::simple_guest(), 5));
  EXPECT_EQ(img.boot.cr0, 0x80000021u);
  EXPECT_EQ(img.boot.cr4, 0x260u) << "PAE|MCE|OSFXSR, no OSXSAVE";
  EXPECT_EQ(img.boot.gdtr.limit, 0xfff);
  EXPECT_EQ(img.boot.idtr.limit, 0xfff);
  EXPECT_EQ(img.boot.idtr.base, img.boot.gdtr.base + 0x1000);
  ASSERT_EQ(img.per_vcpu.size(), 5u);
  const uint8_t* p = bytes_at(img, 0xffff0000, 24 + 5 * 16);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::memcmp(p, &img.boot, sizeof img.boot), 0);
  for (size_t i = 0; i < 5; ++i) {
    abi::TdPerVcpuParams v;
    std::memcpy(&v, p + 24 + 16 * i, 16);
    EXPECT_EQ(v.esp_gva, img.per_vcpu[i].esp_gva);
    EXPECT_EQ(v.guest_code, img.per_vcpu[i].guest_code);
    EXPECT_EQ(v.guest_code, 0x400000u);
    EXPECT_EQ(v.esp_gva % 16, 8u) << "RSP + 8 must be 16-byte aligned at entry";
    EXPECT_LT(uint64_t{v.esp_gva}, abi::kFourGiB);
    const Region* stack = img.region_at(v.esp_gva);
    ASSERT_NE(stack, nullptr);
    EXPECT_EQ(stack->kind, RegionKind::kStack);
    EXPECT_EQ(stack->end(), v.esp_gva + 8u) << "esp_gva = page-aligned top - 8";
    EXPECT_EQ(stack->name, "stack[" + std::to_string(i) + "]");
  }
  for (size_t i = 1; i < 5; ++i) EXPECT_NE(img.per_vcpu[i].esp_gva, img.per_vcpu[i - 1].esp_gva);
}

TEST(LayoutBoot, ControlRegisterOverridesReachTheParams) {
  LayoutSpec spec = spec_with(layouttest::simple_guest());
  spec.cr0 = 0x80000033;
  spec.cr4 = 0x40260;  // with OSXSAVE, as the selftests do on XSAVE hosts
  spec.init_rcx = 0x1234;
  const TdImage img = build_image(spec);
  EXPECT_EQ(img.boot.cr0, 0x80000033u);
  EXPECT_EQ(img.boot.cr4, 0x40260u);
  EXPECT_EQ(img.init_rcx, 0x1234u);
  EXPECT_EQ(read_u64(img, 0xffff0008) & 0xffffffff, 0x40260u);
}

TEST(LayoutBoot, BuiltinStubEndsAtTheResetVectorFollowedByJmpRel8Int3) {
  const TdImage img = build_image(spec_with(layouttest::simple_guest()));
  const auto stub = builtin_stub();
  ASSERT_GT(stub.size(), 0u);
  EXPECT_EQ(img.stub_size, stub.size());
  EXPECT_EQ(img.stub_gpa, 0xfffffff0u - stub.size());
  const uint8_t* s = bytes_at(img, img.stub_gpa, stub.size() + 16);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(std::memcmp(s, stub.data(), stub.size()), 0);
  const uint8_t* rv = s + stub.size();
  EXPECT_EQ(rv[0], 0xeb);
  EXPECT_EQ(rv[1], static_cast<uint8_t>(256 - 2 - stub.size()));
  EXPECT_EQ(rv[2], 0xcc);
  for (int i = 3; i < 16; ++i) EXPECT_EQ(rv[i], 0) << i;
  // The JMP lands on the stub's first byte: 0xfffffff2 + (int8_t)rel8.
  EXPECT_EQ(0xfffffff2u + static_cast<int8_t>(rv[1]), img.stub_gpa);
  const Symbol* start = img.symbol_for(img.stub_gpa);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->addr, img.stub_gpa) << "built-in stub labels are in image.symbols";
  EXPECT_EQ(img.symbol_for(0xfffffff0)->name, "reset_vector");
}

TEST(LayoutBoot, CustomStubOf126BytesIsTheLongestTheJmpReaches) {
  LayoutSpec spec = spec_with(layouttest::simple_guest());
  spec.stub.assign(126, 0x90);
  spec.stub_name = "my_stub.bin";
  const TdImage img = build_image(spec);
  EXPECT_EQ(img.stub_gpa, 0xfffffff0u - 126);
  const uint8_t* rv = bytes_at(img, 0xfffffff0, 3);
  EXPECT_EQ(rv[1], 0x80) << "rel8 = -128";
  EXPECT_EQ(0xfffffff2u + static_cast<int8_t>(rv[1]), img.stub_gpa);
  EXPECT_EQ(img.symbol_for(img.stub_gpa)->name, "my_stub.bin");
  EXPECT_EQ(bytes_at(img, img.stub_gpa - 1, 1)[0], 0) << "nothing before the stub";

  spec.stub.assign(127, 0x90);
  try {
    build_image(spec);
    FAIL() << "127-byte stub accepted";
  } catch (const LayoutError& e) {
    EXPECT_EQ(e.field(), "stub");
    EXPECT_NE(std::string(e.what()).find("127"), std::string::npos) << e.what();
  }
}

TEST(LayoutBoot, GdtHasCodeDataAndTssDescriptors) {
  const TdImage img = build_image(spec_with(layouttest::simple_guest()));
  const uint64_t gdt = img.boot.gdtr.base;
  EXPECT_EQ(img.region_at(gdt)->kind, RegionKind::kDescriptors);
  EXPECT_EQ(read_u64(img, gdt), 0u);
  EXPECT_EQ(read_u64(img, gdt + 0x08), 0x00af9b000000ffffull);
  EXPECT_EQ(read_u64(img, gdt + 0x10), 0x00cf93000000ffffull);
  const uint64_t lo = read_u64(img, gdt + 0x18), hi = read_u64(img, gdt + 0x20);
  const uint64_t base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | (hi << 32);
  EXPECT_EQ((lo >> 40) & 0xf, 0x9u) << "available 64-bit TSS";
  EXPECT_TRUE(lo & (1ull << 47)) << "present";
  EXPECT_EQ(lo & 0xffff, 103u) << "limit";
  EXPECT_EQ(img.region_at(base)->kind, RegionKind::kDescriptors);
  EXPECT_EQ(base % 16, 0u);
  EXPECT_EQ(read_u64(img, base + 0x60) >> 48, 104u) << "I/O map base past the limit";
}

TEST(LayoutBoot, IdtGatesPointAtTdsimIdtStubs) {
  const TdImage img = build_image(spec_with(layouttest::simple_guest(true, true)));
  const uint64_t idt = img.boot.idtr.base;
  for (uint64_t v = 0; v < 256; ++v) {
    const uint64_t lo = read_u64(img, idt + 16 * v), hi = read_u64(img, idt + 16 * v + 8);
    const uint64_t target = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | (hi << 32);
    EXPECT_EQ(target, 0x403000u + 16 * v) << "vector " << v;
    EXPECT_EQ((lo >> 16) & 0xffff, 0x08u) << "selector";
    EXPECT_EQ((lo >> 40) & 0xff, 0x8eu) << "present, DPL0, interrupt gate";
    EXPECT_EQ((lo >> 32) & 7, 0u) << "no IST";
  }
}

TEST(LayoutBoot, IdtGatesNotPresentWithoutIdtStubs) {
  const TdImage img = build_image(spec_with(layouttest::simple_guest(true, false)));
  for (uint64_t off = 0; off < 4096; off += 8) EXPECT_EQ(read_u64(img, img.boot.idtr.base + off), 0u) << off;
}

TEST(LayoutBoot, GuestConfigIsWrittenIntoTheLoadedElf) {
  LayoutSpec spec = spec_with(layouttest::simple_guest(), 3);
  spec.gpaw = 52;
  spec.ucall_mmio_gpa = 0x4000000;
  const TdImage img = build_image(spec);
  const uint8_t* p = bytes_at(img, 0x401040, sizeof(abi::GuestConfig));
  ASSERT_NE(p, nullptr);
  abi::GuestConfig c;
  std::memcpy(&c, p, sizeof c);
  EXPECT_EQ(c.magic, abi::kGuestConfigMagic);
  EXPECT_EQ(c.version, abi::kGuestConfigVersion);
  EXPECT_EQ(c.nr_vcpus, 3u);
  EXPECT_EQ(c.ucall_mmio_gpa, 0x4000000u | (1ull << 51));
  EXPECT_EQ(c.ucall_pool_gva, img.ucall_pool_gpa);
  EXPECT_EQ(c.shared_bit, 1ull << 51);
  EXPECT_EQ(c.gpaw, 52u);
  EXPECT_EQ(c.reserved, 0u);
  EXPECT_EQ(bytes_at(img, 0x401000, 1)[0], 1) << "file bytes around it untouched";
}

TEST(LayoutBoot, ElfSegmentsLoadedWithBssZeroedAndSharedPagesMerged) {
  layouttest::TestElf e = layouttest::simple_guest(false);
  // A read-only segment in the same page as the text's tail, as tight linkers emit.
  e.segments.push_back({0x400400, std::vector<uint8_t>(0x20, 0xab), 0, PF_R});
  const TdImage img = build_image(spec_with(e));
  const Region* text = img.region_at(0x400000);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->kind, RegionKind::kGuestElf);
  // Text and rodata share a page; the data segment touches it: one region for all three
  // (merging touching pages changes no page's bytes or measurement).
  EXPECT_EQ(text->size, 0x3000u);
  EXPECT_EQ(text->name, "guest-elf[0,2,1]");
  EXPECT_EQ(img.region_at(0x401000), text);
  EXPECT_EQ(bytes_at(img, 0x400000, 1)[0], 0xf4);
  EXPECT_EQ(bytes_at(img, 0x400400, 1)[0], 0xab);
  EXPECT_EQ(bytes_at(img, 0x40107f, 1)[0], 0x80);
  for (uint64_t a = 0x401080; a < 0x403000; a += 8) ASSERT_EQ(read_u64(img, a), 0u) << "bss at " << a;
}

TEST(LayoutBoot, ElfFunctionAndObjectSymbolsAreCollected) {
  layouttest::TestElf e = layouttest::simple_guest();
  e.symbols.push_back({"a_section_label", 0x400100, 0, STT_NOTYPE});
  const TdImage img = build_image(spec_with(e));
  const Symbol* m = img.symbol_for(0x400004);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name, "guest_main");
  EXPECT_EQ(img.symbol_for(0x401044)->name, "tdsim_guest_config");
  for (const Symbol& s : img.symbols) EXPECT_NE(s.name, "a_section_label");
  for (size_t i = 1; i < img.symbols.size(); ++i) EXPECT_LE(img.symbols[i - 1].addr, img.symbols[i].addr);
}

}  // namespace
}  // namespace tdsim
