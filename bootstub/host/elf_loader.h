// Reads a guest ELF with libelf (never by hand-parsing headers) and checks that it is
// something the layout can identity-load: x86-64 ELF64 ET_EXEC, PT_LOAD segments with
// p_paddr == p_vaddr, entry in an executable segment. Knows nothing of the memory map.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/td_image.h"

namespace tdsim {

struct ElfSegment {
  size_t index = 0;          // program-header index, for messages
  uint64_t vaddr = 0;        // == paddr == GPA
  uint64_t memsz = 0;
  bool executable = false;
  bool writable = false;
  std::vector<uint8_t> bytes;  // the p_filesz file bytes; the rest up to memsz is zero

  uint64_t end() const { return vaddr + memsz; }
};

struct ElfSymbol {
  std::string name;
  uint64_t addr = 0;
  uint64_t size = 0;
  bool func_or_object = false;  // STT_FUNC or STT_OBJECT: worth listing in reports
};

struct LoadedElf {
  uint64_t entry = 0;
  std::vector<ElfSegment> segments;  // PT_LOAD with memsz > 0, in program-header order
  std::vector<ElfSymbol> symbols;    // every defined, named symbol of .symtab

  const ElfSymbol* find_symbol(const std::string& name) const;
  // The segment holding [addr, addr+len), or nullptr.
  const ElfSegment* segment_holding(uint64_t addr, uint64_t len) const;
};

// Bounds on a guest ELF's shape (issue 13): thousands of page-separated segments made
// thousands of memory regions, which took minutes to map before any budget applied.
// Real guests have a handful of segments.
inline constexpr size_t kMaxElfProgramHeaders = 4096;
// kGuestElf regions an image may have: separate page ranges, segments sharing or
// touching a page counting once.
inline constexpr size_t kMaxElfRegions = 256;

// Throws LayoutError("guest_elf", ...) naming `name` and the broken part.
LoadedElf load_guest_elf(std::span<const uint8_t> file, const std::string& name);

}  // namespace tdsim

namespace tdsim {

// The segments as measured kGuestElf regions: page-rounded, segments sharing or
// touching a page merged into one region, file bytes copied in and the rest (bss) zero-filled. Throws
// LayoutError("guest_elf") past kMaxElfRegions regions.
std::vector<Region> elf_regions(const LoadedElf& elf);

}  // namespace tdsim
