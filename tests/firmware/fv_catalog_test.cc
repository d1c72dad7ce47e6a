// Names for the modules a firmware decompresses into RAM (firmware/fv_catalog.h): PE32
// sections with their UI sections inside LZMA GUID-defined sections, keyed by the header
// fingerprint an image keeps after loading (diag/pe_module.h).
#include "firmware/fv_catalog.h"

#include <gtest/gtest.h>
#include <lzma.h>

#include <cstring>
#include <set>

#include "debian_ovmf.h"
#include "diag/pe_module.h"

namespace tdsim::firmware {
namespace {

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

// A minimal PE32+ image of `size` bytes with one section and entry point `entry`.
std::vector<uint8_t> pe_image(uint32_t entry, uint32_t size = 0x400) {
  std::vector<uint8_t> b(size, 0);
  put16(b, 0, 0x5a4d);
  put32(b, 0x3c, 0x80);
  put32(b, 0x80, 0x00004550);
  put16(b, 0x84, 0x8664);
  put16(b, 0x86, 1);      // one section
  put16(b, 0x94, 0xf0);   // SizeOfOptionalHeader
  put16(b, 0x98, 0x20b);  // PE32+
  put32(b, 0x98 + 16, entry);
  put32(b, 0x98 + 56, size);
  std::memcpy(b.data() + 0x98 + 0xf0, ".text\0\0\0", 8);
  return b;
}

void section(std::vector<uint8_t>& out, uint8_t type, const std::vector<uint8_t>& data) {
  while (out.size() % 4) out.push_back(0);
  const uint32_t size = static_cast<uint32_t>(4 + data.size());
  out.insert(out.end(), {static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size >> 16),
                         type});
  out.insert(out.end(), data.begin(), data.end());
}

std::vector<uint8_t> ui(const std::string& name) {
  std::vector<uint8_t> d;
  for (char c : name) d.insert(d.end(), {static_cast<uint8_t>(c), 0});
  d.insert(d.end(), {0, 0});
  return d;
}

std::vector<uint8_t> lzma_compress(const std::vector<uint8_t>& in) {
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 6);
  lzma_stream st = LZMA_STREAM_INIT;
  EXPECT_EQ(lzma_alone_encoder(&st, &opt), LZMA_OK);
  std::vector<uint8_t> out(in.size() + 1024);
  st.next_in = in.data();
  st.avail_in = in.size();
  st.next_out = out.data();
  st.avail_out = out.size();
  EXPECT_EQ(lzma_code(&st, LZMA_FINISH), LZMA_STREAM_END);
  out.resize(out.size() - st.avail_out);
  lzma_end(&st);
  return out;
}

// A file holding one LZMA GUID-defined section around `volume`.
std::vector<uint8_t> firmware_with(const std::vector<uint8_t>& volume) {
  std::vector<uint8_t> guided(std::begin(kLzmaSectionGuid), std::end(kLzmaSectionGuid));
  guided.insert(guided.end(), {24, 0, 1, 0});  // DataOffset 24, PROCESSING_REQUIRED
  const std::vector<uint8_t> z = lzma_compress(volume);
  guided.insert(guided.end(), z.begin(), z.end());
  std::vector<uint8_t> file(0x100, 0xff);
  section(file, 0x02, guided);
  file.resize(file.size() + 0x100, 0xff);
  return file;
}

TEST(FvCatalog, NamesEachPe32SectionByItsHeadersInsideTheLzmaVolume) {
  std::vector<uint8_t> volume(0x20, 0);
  section(volume, 0x10, pe_image(0x1d72));
  section(volume, 0x15, ui("PcdDxe"));
  section(volume, 0x10, pe_image(0x14f7));
  section(volume, 0x15, ui("AmdSevDxe"));
  section(volume, 0x10, pe_image(0x999));  // no UI section after it: no name
  section(volume, 0x19, {1, 2, 3, 4});
  const std::map<std::string, std::string> names = firmware_module_catalog(firmware_with(volume));
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names.at(*diag::pe_fingerprint(pe_image(0x1d72))), "PcdDxe");
  EXPECT_EQ(names.at(*diag::pe_fingerprint(pe_image(0x14f7))), "AmdSevDxe");
  // A loaded image differs in ImageBase and relocated bytes, not in its fingerprint.
  std::vector<uint8_t> loaded = pe_image(0x1d72);
  put32(loaded, 0x98 + 24, 0x0f50f000);
  loaded[0x300] = 0x42;
  EXPECT_EQ(diag::pe_fingerprint(loaded), diag::pe_fingerprint(pe_image(0x1d72)));
  EXPECT_NE(diag::pe_fingerprint(pe_image(0x1d72, 0x800)), diag::pe_fingerprint(pe_image(0x1d72)));
}

TEST(FvCatalog, BrokenStreamsAndSectionsAreSkipped) {
  std::vector<uint8_t> volume(0x20, 0);
  section(volume, 0x10, pe_image(0x100));
  section(volume, 0x15, ui("Driver"));
  std::vector<uint8_t> file = firmware_with(volume);
  // Corrupt the compressed stream: no volume, no names, no crash.
  std::vector<uint8_t> corrupt = file;
  for (size_t i = 0x100 + 4 + 24 + 13; i < corrupt.size() - 0x100; ++i) corrupt[i] ^= 0x5a;
  EXPECT_TRUE(firmware_module_catalog(corrupt).empty());
  // Truncated files, a section size past the end, DataOffset past the section.
  for (size_t cut = 0; cut < file.size(); cut += 7)
    (void)firmware_module_catalog(std::span<const uint8_t>(file.data(), cut));
  std::vector<uint8_t> bad = file;
  bad[0x100 + 4 + 16] = 0xff;  // DataOffset 0xff..
  bad[0x100 + 4 + 17] = 0xff;
  EXPECT_TRUE(firmware_module_catalog(bad).empty());
  // A PE32 section whose size runs past the volume, and headers that are not a PE.
  std::vector<uint8_t> v2(0x20, 0);
  section(v2, 0x10, pe_image(0x100));
  v2[0x22] = 0x7f;  // size's high byte
  EXPECT_TRUE(catalog_pe_sections(v2).empty());
  std::vector<uint8_t> notpe = pe_image(0x100);
  put32(notpe, 0x3c, 0xfffffff0);
  EXPECT_FALSE(diag::pe_fingerprint(notpe));
  EXPECT_FALSE(diag::pe_fingerprint(std::span<const uint8_t>(notpe.data(), 0x90)));
}

TEST(FvCatalog, TrixiesOvmfNamesItsDxeCoreAndDrivers) {
  const std::string why = debian_ovmf::ovmf_missing(debian_ovmf::kTrixieOvmf, debian_ovmf::kTrixieOvmfSize);
  if (!why.empty()) GTEST_SKIP() << why;
  const std::map<std::string, std::string> names =
      firmware_module_catalog(debian_ovmf::read_file_bytes(debian_ovmf::kTrixieOvmf));
  std::set<std::string> have;
  for (const auto& [fp, name] : names) have.insert(name);
  for (const char* m : {"DxeCore", "PcdDxe", "AmdSevDxe", "RngDxe", "PciHostBridgeDxe", "DevicePathDxe"})
    EXPECT_TRUE(have.count(m)) << m;
  EXPECT_GT(names.size(), 100u) << "trixie's DXE volume holds well over a hundred drivers";
}

}  // namespace
}  // namespace tdsim::firmware
