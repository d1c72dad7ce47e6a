// Which firmware module holds an address: the PE32/PE32+ or TE image around it in guest
// memory, found the way a debugger does without symbols — scan down from the address for
// an image header whose image covers it — and named from its CodeView debug entry (the
// path of the .dll/.efi it was linked as, which edk2 builds record) or, for an image still
// in its firmware volume, from its FFS file's user-interface section). Works on images as
// they sit in flash (SEC) and as the firmware loaded them into RAM (PEI and DXE modules
// decompressed at run time). Reads guest memory through a LinearView; every field is
// checked (the bytes are the guest's). Engine-free.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/guest_memory.h"
#include "core/td_image.h"
#include "guest_view.h"

namespace tdsim::diag {

struct PeModule {
  uint64_t base = 0;   // linear address of the image (of the MZ or VZ header)
  uint64_t size = 0;   // bytes from base the image covers
  std::string name;    // "SecMain" (the CodeView path's file name, extension dropped), or "" if none
  bool te = false;     // a Terse Executable (edk2's stripped PE header)
};

// The image containing linear address `addr`, looking at most `max_scan` bytes below it
// (images are 4-byte aligned at least). nullopt when none is found.
std::optional<PeModule> find_pe_module(const GuestMemory& mem, const TdImage& image, const LinearView& view,
                                       uint64_t addr, uint64_t max_scan = 4ull << 20);

// What tells a PE32/PE32+ image apart from every other one whether it lies in its
// firmware volume or was loaded and relocated into RAM: the COFF file header, the entry
// point, SizeOfImage and the section table (a loader rewrites ImageBase and the
// relocated bytes, none of these). `headers` starts with the image's "MZ"; nullopt when
// they are not a PE image's or do not fit in `headers`.
std::optional<std::string> pe_fingerprint(std::span<const uint8_t> headers);

// "SecMain+0x1b5c" (or "PE image at 0x...+0x..." when unnamed).
std::string describe_pe_address(const PeModule& m, uint64_t addr);

}  // namespace tdsim::diag
