#include "event.h"

#include <fmt/format.h>

namespace tdsim {

const char* ucall_cmd_name(uint64_t cmd) {
  switch (cmd) {
    case abi::kUcallNone: return "NONE";
    case abi::kUcallSync: return "SYNC";
    case abi::kUcallAbort: return "ABORT";
    case abi::kUcallPrintf: return "PRINTF";
    case abi::kUcallDone: return "DONE";
    case abi::kUcallUnhandled: return "UNHANDLED";
  }
  return "UNKNOWN";
}

namespace {
template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;
}  // namespace

bool is_terminal(const Event& e) {
  return std::visit(
      Overload{
          [](const UcallEvent& u) {
            return u.cmd == abi::kUcallDone || u.cmd == abi::kUcallAbort ||
                   u.cmd == abi::kUcallUnhandled;
          },
          [](const MmioEvent&) { return false; },
          [](const TdcallRejectedEvent&) { return false; },
          [](const VmcallExitEvent&) { return false; },
          [](const ConsoleEvent&) { return false; },
          [](const DeviceEvent&) { return false; },
          // Every other kind ends its vCPU; each is named so a new event type must be
          // classified here before this compiles.
          [](const GuestMemoryErrorEvent&) { return true; },
          [](const FaultEvent&) { return true; },
          [](const HaltEvent&) { return true; },
          [](const BudgetExceededEvent&) { return true; },
      },
      e);
}

std::optional<uint32_t> vcpu_of(const Event& e) {
  return std::visit(Overload{
                        [](const BudgetExceededEvent&) -> std::optional<uint32_t> {
                          return std::nullopt;
                        },
                        [](const UcallEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const MmioEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const TdcallRejectedEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const GuestMemoryErrorEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const FaultEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const HaltEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const VmcallExitEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const ConsoleEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                        [](const DeviceEvent& ev) -> std::optional<uint32_t> { return ev.vcpu; },
                    },
                    e);
}

std::string describe(const Event& e) {
  return std::visit(
      Overload{
          [](const UcallEvent& u) {
            std::string s = fmt::format("vcpu {}: ucall {}", u.vcpu, ucall_cmd_name(u.cmd));
            switch (u.cmd) {
              case abi::kUcallPrintf:
                s += fmt::format(": {}", u.text);
                break;
              case abi::kUcallSync:
                s += fmt::format(" args {:#x} {:#x}", u.args[0], u.args[1]);
                break;
              case abi::kUcallAbort:
                if (u.assertion)
                  s += fmt::format(": {}:{}: {}: {}", u.assertion->file, u.assertion->line,
                                   u.assertion->expr, u.text);
                else
                  s += fmt::format(": {}", u.text);
                break;
              default:
                break;
            }
            return s;
          },
          [](const MmioEvent& m) {
            return fmt::format("vcpu {}: mmio {} gpa {:#x} len {} data {:#x}", m.vcpu,
                               m.is_write ? "write" : "read", m.gpa, m.len, m.data);
          },
          [](const TdcallRejectedEvent& t) {
            return fmt::format("vcpu {}: tdcall rejected at rip {:#x}: leaf {} subfn {:#x} "
                               "status {:#x}: {}",
                               t.vcpu, t.rip, t.leaf, t.subfn, t.status, t.reason);
          },
          [](const GuestMemoryErrorEvent& g) {
            return fmt::format("vcpu {}: bad guest memory {:#x} size {}: {}", g.vcpu, g.gpa,
                               g.size, g.what);
          },
          [](const FaultEvent& f) {
            std::string what = f.triple_fault ? "triple fault"
                               : f.vector >= 0 ? fmt::format("exception {}", f.vector)
                                               : std::string("fault");
            return fmt::format("vcpu {}: {} at rip {:#x} error code {:#x}: {}", f.vcpu, what,
                               f.rip, f.error_code, f.detail);
          },
          [](const VmcallExitEvent& x) {
            return fmt::format("vcpu {}: tdvmcall exit at rip {:#x}: subfn {:#x} gpa {:#x} size "
                               "{:#x} arg {:#x} status {:#x}",
                               x.vcpu, x.rip, x.subfn, x.gpa, x.size, x.arg, x.status);
          },
          [](const HaltEvent& h) { return fmt::format("vcpu {}: halted at rip {:#x}", h.vcpu, h.rip); },
          [](const ConsoleEvent& c) { return fmt::format("vcpu {}: console {:#x}: {}", c.vcpu, c.port, c.text); },
          [](const DeviceEvent& d) { return fmt::format("vcpu {}: {}: {}", d.vcpu, d.device, d.request); },
          [](const BudgetExceededEvent& b) {
            return b.kind == BudgetExceededEvent::Kind::kInstructions
                       ? fmt::format("budget exceeded: {} instructions", b.limit)
                       : fmt::format("budget exceeded: {} ms wall clock", b.limit);
          },
      },
      e);
}

}  // namespace tdsim
