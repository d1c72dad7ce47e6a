#include "fv_catalog.h"

#include <lzma.h>

#include <algorithm>
#include <cstring>

#include "diag/pe_module.h"

namespace tdsim::firmware {

namespace {

// EFI_COMMON_SECTION_HEADER: 24-bit size (0xffffff: a 32-bit size follows, header 8
// bytes), 8-bit type.
constexpr uint8_t kSectionPe32 = 0x10, kSectionUi = 0x15;
constexpr size_t kGuidedHeader = 4 + 16 + 2 + 2;  // header, GUID, DataOffset, Attributes
constexpr size_t kMaxName = 256;

struct Section {
  size_t data, end;  // the contents: [data, end) of the buffer
  uint8_t type;
};

// The section at `at`, or false when its header or size does not fit.
bool section_at(std::span<const uint8_t> b, size_t at, Section& s) {
  if (at > b.size() || b.size() - at < 4) return false;
  uint64_t size = b[at] | (b[at + 1] << 8) | (uint32_t{b[at + 2]} << 16);
  size_t header = 4;
  if (size == 0xffffff) {
    if (b.size() - at < 8) return false;
    uint32_t ext = 0;
    std::memcpy(&ext, b.data() + at + 4, 4);
    size = ext, header = 8;
  }
  if (size < header || size > b.size() - at) return false;
  s = Section{at + header, at + static_cast<size_t>(size), b[at + 3]};
  return true;
}

// A UI section's UCS-2 name, printable ASCII kept, anything else '?'.
std::string ui_name(std::span<const uint8_t> b, const Section& s) {
  std::string name;
  for (size_t i = s.data; i + 1 < s.end && name.size() < kMaxName; i += 2) {
    const uint16_t u = static_cast<uint16_t>(b[i] | (b[i + 1] << 8));
    if (u == 0) break;
    name.push_back(u >= 0x20 && u < 0x7f ? static_cast<char>(u) : '?');
  }
  return name;
}

std::vector<uint8_t> lzma_alone(std::span<const uint8_t> in) {
  lzma_stream st = LZMA_STREAM_INIT;
  if (lzma_alone_decoder(&st, kMaxDecompressed * 2) != LZMA_OK) return {};
  std::vector<uint8_t> out(1 << 20);
  st.next_in = in.data();
  st.avail_in = in.size();
  size_t done = 0;
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    if (done == out.size()) {
      if (out.size() >= kMaxDecompressed) break;  // capped: what decoded so far is kept
      out.resize(std::min<uint64_t>(out.size() * 2, kMaxDecompressed));
    }
    st.next_out = out.data() + done;
    st.avail_out = out.size() - done;
    r = lzma_code(&st, LZMA_FINISH);
    done = out.size() - st.avail_out;
  }
  lzma_end(&st);
  if (r != LZMA_OK && r != LZMA_STREAM_END) done = 0;  // corrupt: nothing from it
  out.resize(done);
  return out;
}

}  // namespace

std::map<std::string, std::string> catalog_pe_sections(std::span<const uint8_t> b) {
  std::map<std::string, std::string> names;
  // Sections are 4-byte aligned; a PE32 section holds the image from its "MZ" on, and the
  // FFS file's UI section follows it (edk2's layout for drivers).
  for (size_t at = 0; at + 6 <= b.size(); at += 4) {
    Section pe;
    if (b[at + 3] != kSectionPe32 || b[at + 4] != 'M' || b[at + 5] != 'Z' || !section_at(b, at, pe) ||
        pe.type != kSectionPe32)
      continue;
    const std::optional<std::string> fp = diag::pe_fingerprint(b.subspan(pe.data, pe.end - pe.data));
    if (!fp) continue;
    Section ui;
    const size_t next = (pe.end + 3) & ~size_t{3};
    if (!section_at(b, next, ui) || ui.type != kSectionUi) continue;
    const std::string name = ui_name(b, ui);
    if (!name.empty()) names.emplace(*fp, name);
  }
  return names;
}

std::vector<std::vector<uint8_t>> decompress_lzma_sections(std::span<const uint8_t> file) {
  std::vector<std::vector<uint8_t>> out;
  const uint8_t* const begin = file.data();
  const uint8_t* const end = begin + file.size();
  for (const uint8_t* g = begin; (g = std::search(g, end, std::begin(kLzmaSectionGuid), std::end(kLzmaSectionGuid))) != end;
       ++g) {
    if (g - begin < 4) continue;
    const size_t at = static_cast<size_t>(g - begin) - 4;
    Section s;
    if (!section_at(file, at, s) || s.end - at < kGuidedHeader) continue;
    const size_t data_offset = file[at + 20] | (file[at + 21] << 8);
    if (data_offset < kGuidedHeader || data_offset > s.end - at) continue;
    std::vector<uint8_t> v = lzma_alone(file.subspan(at + data_offset, s.end - at - data_offset));
    if (!v.empty()) out.push_back(std::move(v));
  }
  return out;
}

std::map<std::string, std::string> firmware_module_catalog(std::span<const uint8_t> file) {
  std::map<std::string, std::string> names;
  for (const std::vector<uint8_t>& v : decompress_lzma_sections(file)) names.merge(catalog_pe_sections(v));
  return names;
}

}  // namespace tdsim::firmware
