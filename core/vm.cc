#include "vm.h"

#include <fmt/format.h>

namespace tdsim {

namespace {

uint64_t global_gpa(const TdImage& image, std::string_view name, uint64_t len) {
  for (const Symbol& s : image.symbols) {
    if (s.name != name) continue;
    if (s.size != len)
      throw SymbolError(fmt::format("symbol '{}' is {} bytes, not {}", name, s.size, len));
    const Region* r = image.region_at(s.addr);
    if (!r || r->kind != RegionKind::kGuestElf || s.addr + len > r->end())
      throw SymbolError(fmt::format("symbol '{}' at {:#x} is not in the guest program's memory", name, s.addr));
    return s.addr;  // the guest ELF is identity-mapped (docs/memory-layout.md)
  }
  throw SymbolError(fmt::format("the image has no symbol '{}'", name));
}

}  // namespace

void sync_global_to_guest(Vm& vm, std::string_view symbol, const void* src, uint64_t len) {
  const uint64_t gpa = global_gpa(vm.image(), symbol, len);
  if (!vm.write(gpa, src, len))
    throw SymbolError(fmt::format("symbol '{}' at {:#x}: not guest memory", symbol, gpa));
}

void sync_global_from_guest(const Vm& vm, std::string_view symbol, void* dst, uint64_t len) {
  const uint64_t gpa = global_gpa(vm.image(), symbol, len);
  if (!vm.read(gpa, dst, len))
    throw SymbolError(fmt::format("symbol '{}' at {:#x}: not guest memory", symbol, gpa));
}

}  // namespace tdsim
