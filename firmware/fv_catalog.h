// The names of a firmware's modules by their PE headers, for images it loads into RAM
// without them. OVMF keeps its DXE drivers in an LZMA-compressed firmware volume: the
// DXE core and the drivers are decompressed and relocated into RAM, where neither their
// FFS user-interface section nor (in a release build) a CodeView path comes along. This
// reads every LZMA GUID-defined section of the file (PI spec vol. 3, "GUID-defined
// section"; edk2's LZMA data is a raw "LZMA alone" stream), and in it every PE32 section
// followed by its user-interface section, and keys each name by the image's header
// fingerprint (diag/pe_module.h). The file is hostile: every length is checked, a
// stream that does not decode is skipped, and the output is capped. Host side.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace tdsim::firmware {

// EE4E5898-3914-4259-9D6E-DC7BD79403CF (LZMA_CUSTOM_DECOMPRESS_GUID), as stored on disk.
inline constexpr uint8_t kLzmaSectionGuid[16] = {0x98, 0x58, 0x4e, 0xee, 0x14, 0x39, 0x59, 0x42,
                                                 0x9d, 0x6e, 0xdc, 0x7b, 0xd7, 0x94, 0x03, 0xcf};
// No OVMF volume decompresses to more (trixie's DXE volume: 15.4 MiB).
inline constexpr uint64_t kMaxDecompressed = 64ull << 20;

// fingerprint -> module name, from the PE32 sections with a UI section found in `bytes`
// (a decompressed volume, or any buffer of FFS sections).
std::map<std::string, std::string> catalog_pe_sections(std::span<const uint8_t> bytes);

// The LZMA-compressed sections' contents, decompressed (those that decode).
std::vector<std::vector<uint8_t>> decompress_lzma_sections(std::span<const uint8_t> file);

// Both: every named PE32 image inside the file's compressed volumes.
std::map<std::string, std::string> firmware_module_catalog(std::span<const uint8_t> file);

}  // namespace tdsim::firmware
