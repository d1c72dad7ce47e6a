// The closed set of things a backend reports while a TD runs. Every backend emits the
// same types, so hosts, the CLI and `tdsim diff` never look at backend details.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tdsim/abi/ucall.h"

namespace tdsim {

struct AssertInfo {
  std::string expr;
  std::string file;
  uint64_t line = 0;
};

// A ucall the host decoded from the guest's MMIO write at the agreed GPA.
struct UcallEvent {
  uint32_t vcpu = 0;
  abi::UcallCmd cmd = abi::kUcallNone;
  std::array<uint64_t, abi::kUcallMaxArgs> args{};
  std::string text;                   // PRINTF text or ABORT message (buffer, NUL-terminated)
  std::optional<AssertInfo> assertion;  // ABORT only
  uint64_t slot_gpa = 0;              // where the ucall struct was read from
};

// An MMIO access that is not a ucall (another GPA, another size, or a read).
struct MmioEvent {
  uint32_t vcpu = 0;
  uint64_t gpa = 0;  // untagged
  uint32_t len = 0;
  bool is_write = false;
  uint64_t data = 0;  // the low `len` bytes (mask_to_access_size)
};

// `v` cut to the low `size` bytes of a 1-, 2- or 4-byte access (8 or more: all of it).
constexpr uint64_t mask_to_access_size(uint64_t v, uint64_t size) {
  return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

// A TDCALL the TDX module (or KVM behind it) refused without a VM exit; the guest
// resumes with the status in RAX (TDCALL) or R10 (TDG.VP.VMCALL).
struct TdcallRejectedEvent {
  uint32_t vcpu = 0;
  uint64_t rip = 0;
  uint64_t leaf = 0;
  uint64_t subfn = 0;   // R11 for TDG.VP.VMCALL
  uint64_t status = 0;
  std::string reason;
};

// The guest handed the host a pointer it cannot follow (ucall slot, PRINTF buffer,
// assert strings). The ucall is dropped; the vCPU stops.
struct GuestMemoryErrorEvent {
  uint32_t vcpu = 0;
  uint64_t gpa = 0;
  uint64_t size = 0;
  std::string what;
};

// An exception the guest could not handle, a triple fault or an engine error.
struct FaultEvent {
  uint32_t vcpu = 0;
  uint64_t rip = 0;
  int vector = -1;          // -1 when the backend cannot tell
  uint64_t error_code = 0;
  bool triple_fault = false;
  std::string detail;
  // diag::explain_fault() report from the state the backend could read (empty when it
  // could read none, e.g. a real TD). Diagnostics only: `tdsim diff` ignores it.
  std::vector<std::string> explanation;
};

// A TDG.VP.VMCALL KVM hands to userspace and the simulated VMM completed (KVM_EXIT_TDX:
// GetQuote, SetupEventNotifyInterrupt, GetTdVmCallInfo leaf 1; KVM_EXIT_HYPERCALL:
// MapGPA). The guest resumed with `status` in R10. Arguments as the VMM saw them.
struct VmcallExitEvent {
  uint32_t vcpu = 0;
  uint64_t rip = 0;
  uint64_t subfn = 0;        // R11
  uint64_t gpa = 0;          // MapGPA start / GetQuote buffer, shared bit kept
  uint64_t size = 0;         // MapGPA / GetQuote size
  uint64_t arg = 0;          // SetupEventNotifyInterrupt vector, GetTdVmCallInfo leaf
  uint64_t status = 0;       // R10 the guest got
};

struct HaltEvent {
  uint32_t vcpu = 0;
  uint64_t rip = 0;  // the halting instruction itself (HLT, or the TDCALL<HLT>), on every backend
};

// Text the guest wrote to a console port (a debug console, a serial port's transmit
// register), one or more whole lines, as a device model collected it (devices/).
struct ConsoleEvent {
  uint32_t vcpu = 0;
  uint16_t port = 0;
  std::string text;  // guest bytes, line breaks removed at the ends; escaped on output
};

// What the guest asked of a device model, or an access no model claims (devices/): the
// firmware's requests, never answered silently.
struct DeviceEvent {
  uint32_t vcpu = 0;
  std::string device;   // "fw_cfg", "pci", "port" (unclaimed)
  std::string request;  // what was asked and answered, one line
};

struct BudgetExceededEvent {
  enum class Kind { kInstructions, kWallClock } kind = Kind::kInstructions;
  uint64_t limit = 0;  // instructions, or milliseconds
  // Where each still-running vCPU was (RIP, symbol, instruction), when the backend knows.
  // Diagnostics only: `tdsim diff` ignores it.
  std::vector<std::string> explanation;
};

using Event = std::variant<UcallEvent, MmioEvent, TdcallRejectedEvent, GuestMemoryErrorEvent,
                           FaultEvent, HaltEvent, BudgetExceededEvent, VmcallExitEvent, ConsoleEvent,
                           DeviceEvent>;

// Does this event end its vCPU's run? (DONE, ABORT, faults, halts, bad guest memory.)
bool is_terminal(const Event& e);

// The vCPU an event belongs to, if any (budget events belong to the whole run).
std::optional<uint32_t> vcpu_of(const Event& e);

// One line, human readable, stable: used by the CLI, logs and `tdsim diff`.
std::string describe(const Event& e);

const char* ucall_cmd_name(uint64_t cmd);

}  // namespace tdsim
