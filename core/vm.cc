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

Event Vcpu::run() {
  const uint64_t start = executed();
  if (std::optional<Event> e = run_turn(Turn{per_call_.max_insns, std::chrono::steady_clock::now() + per_call_.timeout}))
    return std::move(*e);
  // The turn ran out: by instructions where they were counted to the limit, else by time.
  if (per_call_.max_insns != UINT64_MAX && executed() - start >= per_call_.max_insns)
    return BudgetExceededEvent{BudgetExceededEvent::Kind::kInstructions, per_call_.max_insns, describe_position()};
  return BudgetExceededEvent{BudgetExceededEvent::Kind::kWallClock, static_cast<uint64_t>(per_call_.timeout.count()),
                             describe_position()};
}

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
