// The TDVF metadata of a TD firmware image (OVMF built with TDX support, td-shim): where
// each section of the image goes in the TD's memory and how the VMM adds and measures it.
// Located the way VMMs locate it: the GUIDed table that ends 32 bytes before the end of
// the image (just below the reset vector) holds an entry with the metadata's offset from
// the end. Facts restated in docs/firmware.md. Firmware bytes are untrusted input: every
// offset and length is checked, and an error names the field.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace tdsim::firmware {

class FirmwareError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class SectionType : uint32_t {
  kBfv = 0,      // boot firmware volume: code, copied from the image
  kCfv = 1,      // configuration firmware volume (variables), copied from the image
  kTdHob = 2,    // where the VMM writes the TD HOB (memory map) for the firmware
  kTempMem = 3,  // zeroed private memory the firmware uses before it accepts more
};
const char* to_string(SectionType t);  // "BFV", "CFV", "TD_HOB", "TempMem"

inline constexpr uint32_t kAttrMrExtend = 1u << 0;  // measure the contents (TDH.MR.EXTEND)
inline constexpr uint32_t kAttrPageAug = 1u << 1;   // added later by TDH.MEM.PAGE.AUG

struct TdvfSection {
  uint32_t data_offset = 0;  // in the image
  uint32_t raw_size = 0;     // bytes copied from the image (0 for TD_HOB, TempMem)
  uint64_t gpa = 0;          // MemoryAddress, 4 KiB aligned, section below 4 GiB
  uint64_t size = 0;         // MemoryDataSize, 4 KiB multiple, >= raw_size
  SectionType type = SectionType::kBfv;
  uint32_t attributes = 0;
  bool measured() const { return attributes & kAttrMrExtend; }
};

struct TdvfMetadata {
  uint64_t offset = 0;  // of the "TDVF" descriptor in the image
  uint32_t version = 0;
  std::vector<TdvfSection> sections;  // in metadata order: the order the VMM adds them
};

// Parses `image` (the whole firmware file). Throws FirmwareError naming what is wrong:
// "OVMF GUIDed table: ...", "TDVF metadata: Signature ...", "section[2].MemoryAddress ...".
TdvfMetadata parse_tdvf(std::span<const uint8_t> image);

}  // namespace tdsim::firmware
