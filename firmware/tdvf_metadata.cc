#include "tdvf_metadata.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace tdsim::firmware {

namespace {

// GUIDs in their on-disk (little-endian mixed) byte order.
constexpr std::array<uint8_t, 16> kTableFooterGuid = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                                      0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
constexpr std::array<uint8_t, 16> kTdxMetadataOffsetGuid = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                                            0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
constexpr uint32_t kTdvfSignature = 0x46564454;  // "TDVF"
constexpr uint64_t kFooterFromEnd = 48;          // the footer GUID; the reset vector area follows
constexpr uint64_t kEntryTrailer = 18;           // u16 length + GUID after each entry's data
constexpr uint64_t kDescriptorSize = 16, kSectionSize = 32;
constexpr uint64_t kPage = 4096;
// TDVF sections live in the 32-bit address space (firmware below 4 GiB, its early
// memory in low RAM); the bound also keeps the work a hostile MemoryDataSize can cause
// (pages to add and hash) to at most 1 M pages, since sections may not overlap.
constexpr uint64_t kMaxGpa = 1ull << 32;

uint16_t le16(std::span<const uint8_t> b, uint64_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }
uint32_t le32(std::span<const uint8_t> b, uint64_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | b[at + static_cast<uint64_t>(i)];
  return v;
}
uint64_t le64(std::span<const uint8_t> b, uint64_t at) {
  return le32(b, at) | static_cast<uint64_t>(le32(b, at + 4)) << 32;
}
bool guid_at(std::span<const uint8_t> b, uint64_t at, const std::array<uint8_t, 16>& g) {
  return std::memcmp(b.data() + at, g.data(), g.size()) == 0;
}

// The data of the GUIDed-table entry `guid`, as an [offset, length) in the image.
std::pair<uint64_t, uint64_t> find_table_entry(std::span<const uint8_t> img, const std::array<uint8_t, 16>& guid,
                                               const char* what) {
  const uint64_t n = img.size();
  if (n < kPage) throw FirmwareError(fmt::format("image is {} bytes: too small for a firmware volume", n));
  if (!guid_at(img, n - kFooterFromEnd, kTableFooterGuid))
    throw FirmwareError(fmt::format(
        "OVMF GUIDed table: no footer GUID 96b582de-1fb2-45f7-baea-a366c55a082d at {:#x} (48 bytes before the "
        "end): not an OVMF/TDVF image",
        n - kFooterFromEnd));
  uint64_t end = n - kFooterFromEnd - 2;  // the table's u16 total length sits before the footer GUID
  const uint16_t total = le16(img, end);
  if (total < kEntryTrailer || total - kEntryTrailer > end)
    throw FirmwareError(fmt::format("OVMF GUIDed table: total length {} at {:#x} is impossible", total, end));
  uint64_t left = total - kEntryTrailer;  // bytes of entries below `end`
  for (int index = 0; left >= kEntryTrailer; ++index) {
    const uint16_t len = le16(img, end - kEntryTrailer);
    if (len < kEntryTrailer || len > left)
      throw FirmwareError(fmt::format("OVMF GUIDed table: entry {} (ending at {:#x}) has length {}, outside 18..{}",
                                      index, end, len, left));
    const bool match = guid_at(img, end - 16, guid);
    end -= len;
    left -= len;
    if (match) return {end, len - kEntryTrailer};
  }
  throw FirmwareError(fmt::format("OVMF GUIDed table: no {} entry (GUID e47a6535-984a-4798-865e-4685a7bf8ec2): "
                                  "this OVMF was built without TDX support",
                                  what));
}

}  // namespace

const char* to_string(SectionType t) {
  switch (t) {
    case SectionType::kBfv: return "BFV";
    case SectionType::kCfv: return "CFV";
    case SectionType::kTdHob: return "TD_HOB";
    case SectionType::kTempMem: return "TempMem";
  }
  return "?";
}

TdvfMetadata parse_tdvf(std::span<const uint8_t> img) {
  const uint64_t n = img.size();
  const auto [entry, entry_len] = find_table_entry(img, kTdxMetadataOffsetGuid, "TDX metadata offset");
  if (entry_len < 4)
    throw FirmwareError(fmt::format("TDX metadata offset entry at {:#x} holds {} bytes, not a u32", entry, entry_len));
  const uint32_t from_end = le32(img, entry);
  if (from_end > n || from_end < kDescriptorSize)
    throw FirmwareError(fmt::format("TDX metadata offset {:#x} (from the end) is outside the {}-byte image", from_end, n));
  TdvfMetadata md;
  md.offset = n - from_end;
  const uint64_t at = md.offset;
  if (le32(img, at) != kTdvfSignature)
    throw FirmwareError(fmt::format("TDVF metadata at {:#x}: Signature {:#010x} is not \"TDVF\"", at, le32(img, at)));
  const uint32_t length = le32(img, at + 4);
  md.version = le32(img, at + 8);
  const uint32_t count = le32(img, at + 12);
  if (md.version != 1)
    throw FirmwareError(fmt::format("TDVF metadata at {:#x}: Version {} (only 1 is defined)", at, md.version));
  if (count < 2)
    throw FirmwareError(fmt::format("TDVF metadata at {:#x}: NumberOfSectionEntries {} (a TDVF has at least 2)", at, count));
  if (length != kDescriptorSize + kSectionSize * static_cast<uint64_t>(count))
    throw FirmwareError(fmt::format("TDVF metadata at {:#x}: Length {} does not match {} section entries ({})", at,
                                    length, count, kDescriptorSize + kSectionSize * static_cast<uint64_t>(count)));
  if (at + length > n)
    throw FirmwareError(fmt::format("TDVF metadata at {:#x}: Length {} runs past the end of the image", at, length));

  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t e = at + kDescriptorSize + kSectionSize * i;
    TdvfSection s;
    s.data_offset = le32(img, e);
    s.raw_size = le32(img, e + 4);
    s.gpa = le64(img, e + 8);
    s.size = le64(img, e + 16);
    const uint32_t type = le32(img, e + 24);
    s.attributes = le32(img, e + 28);
    const std::string field = fmt::format("TDVF metadata section[{}]", i);
    if (type > static_cast<uint32_t>(SectionType::kTempMem))
      throw FirmwareError(fmt::format("{}.Type {} is not BFV (0), CFV (1), TD_HOB (2) or TempMem (3)", field, type));
    s.type = static_cast<SectionType>(type);
    if (s.attributes & ~(kAttrMrExtend | kAttrPageAug))
      throw FirmwareError(fmt::format("{}.Attributes {:#x} has undefined bits", field, s.attributes));
    if (s.gpa % kPage) throw FirmwareError(fmt::format("{}.MemoryAddress {:#x} is not 4 KiB aligned", field, s.gpa));
    if (s.size == 0 || s.size % kPage)
      throw FirmwareError(fmt::format("{}.MemoryDataSize {:#x} is not a non-zero multiple of 4 KiB", field, s.size));
    if (s.gpa >= kMaxGpa || s.size > kMaxGpa - s.gpa)
      throw FirmwareError(fmt::format("{} [{:#x}, +{:#x}) reaches beyond 4 GiB, where no TDVF section lives", field,
                                      s.gpa, s.size));
    if (s.raw_size > s.size)
      throw FirmwareError(fmt::format("{}.RawDataSize {:#x} exceeds MemoryDataSize {:#x}", field, s.raw_size, s.size));
    const bool from_image = s.type == SectionType::kBfv || s.type == SectionType::kCfv;
    if (from_image && s.raw_size == 0)
      throw FirmwareError(fmt::format("{} ({}): RawDataSize 0, but its contents come from the image", field, to_string(s.type)));
    if (!from_image && s.raw_size != 0)
      throw FirmwareError(fmt::format("{} ({}): RawDataSize {:#x}, but it has no contents in the image", field,
                                      to_string(s.type), s.raw_size));
    if (static_cast<uint64_t>(s.data_offset) + s.raw_size > n)
      throw FirmwareError(fmt::format("{}: DataOffset {:#x} + RawDataSize {:#x} runs past the {}-byte image", field,
                                      s.data_offset, s.raw_size, n));
    for (uint32_t j = 0; j < i; ++j) {
      const TdvfSection& o = md.sections[j];
      if (s.gpa < o.gpa + o.size && o.gpa < s.gpa + s.size)
        throw FirmwareError(fmt::format("{} [{:#x}, +{:#x}) overlaps section[{}] [{:#x}, +{:#x}): a page cannot be "
                                        "added twice",
                                        field, s.gpa, s.size, j, o.gpa, o.size));
    }
    md.sections.push_back(s);
  }
  return md;
}

}  // namespace tdsim::firmware
