// The debug-target facet: what a debugger (gdbstub/) needs of a backend, with no engine
// in sight. A backend that can be debugged offers it through Vm::debug_target(); one that
// cannot (a real TD) returns nullptr there and BackendCaps says so.
// Registers are named (x86_register_file() lists the names and sizes every facet
// understands); memory is addressed by guest-virtual address as the vCPU sees it now.
// Execution is one bounded turn of one vCPU; scheduling turns (round-robin, budgets)
// is core/round_robin.h's job, not the facet's.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"
#include "guest_memory.h"
#include "td_image.h"

namespace tdsim {

// Which part of the x86 register file a register belongs to: a debugger asks for whole
// sets (the 'g' packet is general + segment + x87 + sse + control).
enum class RegSet : uint8_t { kGeneral, kSegment, kX87, kSse, kControl };

struct DebugRegister {
  const char* name;  // "rax", "eflags", "cs", "fs_base", "st0", "xmm0", "cr0", "efer", ...
  RegSet set;
  uint8_t size;      // bytes, little-endian
  bool writable;     // selectors and the x87 pointer registers are read-only
};

// Every register a facet serves, in a fixed order (gdb's amd64 numbering for the first
// 57, then fs_base, gs_base, the control registers, EFER as the TD sees it, GDTR, IDTR).
std::span<const DebugRegister> x86_register_file();
// Index into x86_register_file(), nullopt for an unknown name.
std::optional<unsigned> find_register(std::string_view name);

enum class WatchKind : uint8_t { kWrite, kRead, kAccess };

struct DebugStop {
  enum class Kind : uint8_t {
    kExhausted,   // ran the turn's instructions; the vCPU can go on
    kEnded,       // a terminal event went to the sink; the vCPU will not run again
    kBreakpoint,  // before an instruction at a breakpoint address (not yet run)
    kWatchpoint,  // after an instruction that touched a watched range
  };
  Kind kind = Kind::kExhausted;
  WatchKind watch = WatchKind::kWrite;  // for kWatchpoint: the watchpoint that fired
  uint64_t watch_addr = 0;              // its start address (as gdb set it)
};

// Guest-virtual memory for the facets, page by page: `translate` gives a GVA's untagged
// GPA as the vCPU sees it now, or nullopt.
using GvaTranslator = std::function<std::optional<uint64_t>(uint64_t gva)>;
// Copies [gva, gva+len) up to the first byte that is not mapped or not guest memory;
// returns how many bytes were copied.
uint64_t read_by_page(const GuestMemory& mem, const GvaTranslator& translate, uint64_t gva, void* dst, uint64_t len);
// The (GPA, length) pieces of [gva, gva+len), or nullopt if any byte is not mapped or
// not guest memory: what an all-or-nothing write needs before it writes anything.
std::optional<std::vector<std::pair<uint64_t, uint64_t>>> pieces_by_page(const GuestMemory& mem,
                                                                          const GvaTranslator& translate, uint64_t gva,
                                                                          uint64_t len);

class DebugTarget {
 public:
  virtual ~DebugTarget() = default;

  virtual const TdImage& image() const = 0;
  virtual uint32_t nr_vcpus() const = 0;
  // The guest memory, for engine-free views (boot parameters, page walks).
  virtual const GuestMemory& memory() const = 0;

  // `out` / `in` must be the register's size; false for an unknown register, a wrong
  // size, a read-only register whose value would change, or an engine error.
  virtual bool read_register(uint32_t vcpu, unsigned reg, std::span<uint8_t> out) = 0;
  virtual bool write_register(uint32_t vcpu, unsigned reg, std::span<const uint8_t> in) = 0;

  // By GVA through the vCPU's paging now (physical while paging is off). Reads copy up
  // to the first byte that is not mapped and return how many were copied; writes are
  // all or nothing, and translated code covering them is dropped.
  virtual uint64_t read_memory(uint32_t vcpu, uint64_t gva, void* dst, uint64_t len) = 0;
  virtual bool write_memory(uint32_t vcpu, uint64_t gva, const void* src, uint64_t len) = 0;

  // Breakpoints stop before the instruction at a GVA; watchpoints after an instruction
  // whose data access overlaps [gva, gva+len) (the TDX module's own writes into guest
  // memory do not count: they are not instructions). Removing one that is not set
  // returns false.
  virtual void add_breakpoint(uint64_t gva) = 0;
  virtual bool remove_breakpoint(uint64_t gva) = 0;
  virtual bool has_breakpoint(uint64_t gva) const = 0;
  virtual bool add_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) = 0;
  virtual bool remove_watchpoint(WatchKind kind, uint64_t gva, uint64_t len) = 0;
  virtual void clear_breakpoints_and_watchpoints() = 0;

  // Runs `vcpu` for at most `max_insns` instructions (a TDCALL counts as one), events to
  // `sink`. With `stop_at_breakpoints` false breakpoints are passed (a step, a step off
  // one); watchpoints always stop.
  virtual DebugStop run(uint32_t vcpu, uint64_t max_insns, bool stop_at_breakpoints, const EventSink& sink) = 0;
  virtual bool ended(uint32_t vcpu) const = 0;
  virtual uint64_t executed(uint32_t vcpu) const = 0;  // instructions run so far
  // Where the vCPU is (RIP, symbol, instruction), for budget events.
  virtual std::vector<std::string> describe_position(uint32_t vcpu) const = 0;
  // The TDCALLs this TD made so far, one line each, oldest first (at most the last
  // `max` lines).
  virtual std::vector<std::string> tdcall_log(size_t max) const = 0;
};

}  // namespace tdsim
