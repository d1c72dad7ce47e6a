// Placement rules for low RAM: every allocated range must lie inside [0, mem_size) and
// no two may overlap; the gaps become filler RAM regions so that the regions cover low
// RAM completely. Knows regions and LayoutSpec field names, nothing of their contents.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/td_image.h"

namespace tdsim {

// A range something was placed at, for the checks: who asked for it and how.
struct Allocation {
  std::string name;        // as in messages: "page-tables", "stack[2]", "guest_elf segment 1"
  uint64_t gpa = 0;        // page aligned
  uint64_t size = 0;       // multiple of 4 KiB
  std::string field;       // the LayoutSpec field blamed when it does not fit
  bool overridden = false; // placed by an explicit LayoutSpec override
  bool elf = false;        // an ELF segment (ELF segments may share pages with each other)
  uint64_t end() const { return gpa + size; }
};

// Throws LayoutError if an allocation overlaps the params/stub pages, lies outside
// [0, mem_size) ("mem_size" is blamed for default placements: RAM too small), or
// overlaps another allocation (both named; an override or the ELF is blamed).
void check_placement(const std::vector<Allocation>& allocs, uint64_t mem_size);

// Sorts `regions` (all inside low RAM, non-overlapping) and adds private, unmeasured
// kRam regions named "ram" for every gap, so they cover [0, mem_size) exactly.
std::vector<Region> fill_low_ram(std::vector<Region> regions, uint64_t mem_size);

}  // namespace tdsim
