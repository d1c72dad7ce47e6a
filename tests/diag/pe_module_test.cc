// Naming the firmware module around an address from the PE/TE image there: a CodeView
// path where the image has one, else its firmware-volume UI section; hostile headers are
// refused, never followed out of memory.
#include "diag/pe_module.h"
#include "diag/module_tracker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tdsim::diag {
namespace {

constexpr uint64_t kBase = 0x10000;  // one 64 KiB RAM region, identity (paging off)

struct Mem {
  TdImage image;
  std::unique_ptr<GuestMemory> mem;
  Mem() {
    image.regions = {Region{"ram", RegionKind::kRam, kBase, 0x10000, {}}};
    mem = std::make_unique<GuestMemory>(image);
  }
  template <class T>
  void put(uint64_t gpa, T v) { ASSERT_TRUE(mem->write(gpa, &v, sizeof v)); }
  void put_bytes(uint64_t gpa, const std::string& s) { ASSERT_TRUE(mem->write(gpa, s.data(), s.size())); }
  std::optional<PeModule> find(uint64_t addr) { return find_pe_module(*mem, image, LinearView{}, addr); }
};

// A PE32+ image at `at` of `size` bytes; with `cv_path`, a debug directory naming it.
void pe_image(Mem& m, uint64_t at, uint32_t size, const std::string& cv_path = {}) {
  m.put<uint16_t>(at, 0x5a4d);
  m.put<uint32_t>(at + 0x3c, 0x80);
  const uint64_t nt = at + 0x80, opt = nt + 24;
  m.put<uint32_t>(nt, 0x00004550);
  m.put<uint16_t>(opt, 0x20b);
  m.put<uint32_t>(opt + 56, size);
  m.put<uint32_t>(opt + 108, 16);  // NumberOfRvaAndSizes
  if (!cv_path.empty()) {
    const uint32_t dir = 0x400, cv = 0x500;
    m.put<uint32_t>(opt + 112 + 6 * 8, dir);
    m.put<uint32_t>(opt + 112 + 6 * 8 + 4, 28);
    m.put<uint32_t>(at + dir + 12, 2);  // CODEVIEW
    m.put<uint32_t>(at + dir + 20, cv);
    m.put<uint32_t>(at + cv, 0x53445352);  // RSDS
    m.put_bytes(at + cv + 24, cv_path + std::string(1, '\0'));
  }
}

TEST(PeModule, CodeViewPathNamesTheImage) {
  Mem m;
  pe_image(m, kBase + 0x1000, 0x3000, "/build/OvmfX64/DEBUG_GCC5/X64/PeiCore/DEBUG/PeiCore.dll");
  auto pe = m.find(kBase + 0x2345);
  ASSERT_TRUE(pe);
  EXPECT_EQ(pe->base, kBase + 0x1000);
  EXPECT_EQ(pe->size, 0x3000u);
  EXPECT_EQ(pe->name, "PeiCore");
  EXPECT_EQ(describe_pe_address(*pe, kBase + 0x2345), "PeiCore+0x1345");
  EXPECT_FALSE(m.find(kBase + 0x4000)) << "past SizeOfImage: not this image";
}

TEST(PeModule, AnImageInItsFirmwareVolumeIsNamedByItsUiSection) {
  Mem m;
  // FFS sections: [PE32 section header][image 0x200 bytes][UI section "SecMain"].
  const uint64_t sec = kBase + 0x2000, image = sec + 4;  // 4-byte aligned, not 16
  m.put<uint32_t>(sec, (0x10u << 24) | (4 + 0x200));
  pe_image(m, image, 0x200);
  const uint64_t ui = sec + 4 + 0x200;
  const std::u16string name = u"SecMain";
  m.put<uint32_t>(ui, (0x15u << 24) | static_cast<uint32_t>(4 + 2 * (name.size() + 1)));
  ASSERT_TRUE(m.mem->write(ui + 4, name.data(), 2 * name.size()));
  auto pe = m.find(image + 0x1f0);
  ASSERT_TRUE(pe);
  EXPECT_EQ(pe->name, "SecMain");
  EXPECT_EQ(pe->base, image);
}

TEST(PeModule, TeImageWithoutNamesIsDescribedByAddress) {
  Mem m;
  const uint64_t te = kBase + 0x3000;
  m.put<uint16_t>(te, 0x5a56);  // VZ
  m.put<uint8_t>(te + 4, 1);     // one section
  m.put<uint16_t>(te + 6, 0x1c8);  // StrippedSize
  m.put<uint32_t>(te + 40 + 8, 0x800);   // VirtualSize
  m.put<uint32_t>(te + 40 + 12, 0x200);  // VirtualAddress
  auto pe = m.find(te + 0x100);
  ASSERT_TRUE(pe);
  EXPECT_TRUE(pe->te);
  EXPECT_EQ(pe->size, 0x200u + 0x800 - 0x1c8 + 40);
  EXPECT_EQ(describe_pe_address(*pe, te + 0x100), "TE image at 0x13000+0x100");
}

// An image loaded into RAM keeps neither its UI section nor (release builds) a CodeView
// path: the image's catalog of firmware modules names it by its headers' fingerprint.
TEST(PeModule, AnImageWithoutNamesIsNamedFromTheFirmwaresCatalog) {
  Mem m;
  pe_image(m, kBase + 0x1000, 0x2000);
  m.put<uint16_t>(kBase + 0x1080 + 6, 1);      // one section
  m.put<uint16_t>(kBase + 0x1080 + 20, 0xf0);  // SizeOfOptionalHeader
  EXPECT_EQ(m.find(kBase + 0x1100)->name, "") << "no catalog: unnamed";
  std::vector<uint8_t> headers(0x1000);
  ASSERT_TRUE(m.mem->read(kBase + 0x1000, headers.data(), headers.size()));
  const std::optional<std::string> fp = pe_fingerprint(headers);
  ASSERT_TRUE(fp);
  m.image.module_names[*fp] = "DxeCore";
  EXPECT_EQ(m.find(kBase + 0x1100)->name, "DxeCore");
  m.put<uint32_t>(kBase + 0x1080 + 24 + 16, 0x777);  // another entry point: another image
  EXPECT_EQ(m.find(kBase + 0x1100)->name, "");
}

TEST(PeModule, HostileHeadersAreNotFollowed) {
  Mem m;
  // MZ with e_lfanew pointing outside memory, a PE with a 4 GiB SizeOfImage, a CodeView
  // RVA past the image: nothing found or no name, no crash.
  m.put<uint16_t>(kBase + 0x100, 0x5a4d);
  m.put<uint32_t>(kBase + 0x13c, 0xfffffff0);
  EXPECT_FALSE(m.find(kBase + 0x180));
  pe_image(m, kBase + 0x4000, 0x1000);
  m.put<uint32_t>(kBase + 0x4080 + 24 + 56, 0xffffffff);
  EXPECT_FALSE(m.find(kBase + 0x4100));
  pe_image(m, kBase + 0x8000, 0x1000);
  m.put<uint32_t>(kBase + 0x8080 + 24 + 112 + 48, 0x7ffff000);  // debug dir RVA way past
  auto pe = m.find(kBase + 0x8100);
  ASSERT_TRUE(pe);
  EXPECT_EQ(pe->name, "");
  EXPECT_FALSE(m.find(kBase)) << "nothing below the region's first page";
}

// The tracker says when execution first enters each module, once, and nothing while it
// stays in one or runs outside every image.
TEST(ModuleTracker, EachModuleIsEnteredOnce) {
  Mem m;
  pe_image(m, kBase + 0x1000, 0x1000, "/x/SecMain.dll");
  pe_image(m, kBase + 0x4000, 0x2000, "/x/PeiCore.dll");
  ModuleTracker t;
  auto at = [&](uint64_t rip) { return t.at(*m.mem, m.image, LinearView{}, rip); };
  auto first = at(kBase + 0x1100);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "entered SecMain (PE image at 0x11000)");
  EXPECT_FALSE(at(kBase + 0x1200)) << "same module";
  EXPECT_TRUE(t.inside(kBase + 0x1fff));
  auto second = at(kBase + 0x5000);
  ASSERT_TRUE(second);
  EXPECT_NE(second->find("PeiCore"), std::string::npos);
  EXPECT_FALSE(at(kBase + 0x1100)) << "entered before";
  EXPECT_FALSE(at(kBase + 0xf000)) << "no image: nothing to say";
  EXPECT_TRUE(t.inside(kBase + 0xf800)) << "the module-less page is remembered";
}

// An image unloaded and replaced by another at the same base (the DXE core reuses a failed
// driver's pages): entering it again re-reads its headers, names the new module and says
// the code there is new (take_new_image), which the same image re-entered does not.
TEST(ModuleTracker, AnImageLoadedOverAnotherIsANewModule) {
  Mem m;
  pe_image(m, kBase + 0x1000, 0x2000);
  pe_image(m, kBase + 0x8000, 0x1000, "/x/DxeCore.dll");
  ModuleTracker t;
  auto at = [&](uint64_t rip) { return t.at(*m.mem, m.image, LinearView{}, rip); };
  ASSERT_TRUE(at(kBase + 0x1100));
  EXPECT_TRUE(t.take_new_image()) << "first seen";
  EXPECT_FALSE(t.take_new_image()) << "said once";
  ASSERT_TRUE(at(kBase + 0x8100));
  EXPECT_TRUE(t.take_new_image());
  EXPECT_FALSE(at(kBase + 0x1100)) << "the same image again: nothing new";
  EXPECT_FALSE(t.take_new_image());
  ASSERT_FALSE(at(kBase + 0x8100));
  // Another image of another size where the first was.
  pe_image(m, kBase + 0x1000, 0x3000);
  m.put<uint32_t>(kBase + 0x1080 + 24 + 16, 0x1234);  // AddressOfEntryPoint
  auto again = at(kBase + 0x1100);
  ASSERT_TRUE(again) << "a new module at the same base is entered";
  EXPECT_EQ(*again, "entered an unnamed module (PE image at 0x11000)");
  EXPECT_TRUE(t.take_new_image());
  EXPECT_TRUE(t.inside(kBase + 0x3fff)) << "the new image's extent";
  // Same size, other headers: new code too, but the same milestone key (already said).
  ASSERT_FALSE(at(kBase + 0x8100));
  m.put<uint32_t>(kBase + 0x1080 + 24 + 16, 0x5678);
  EXPECT_FALSE(at(kBase + 0x1100));
  EXPECT_TRUE(t.take_new_image()) << "the headers changed: the engine must retranslate";
}

}  // namespace
}  // namespace tdsim::diag
