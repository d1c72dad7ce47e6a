// The VMM's answers to KVM's userspace exits for a TD, and the events the host sees.
// One function per exit kind; the defaults (reads nobody answers, MapGPA accepted, no
// optional TDG.VP.VMCALLs offered) come from TdxConfig, device values from HostHooks.
#include "vmm.h"

#include <fmt/format.h>

#include "core/backend.h"
#include "tdsim/abi/tdx.h"
#include "ucall/host/ucall_decoder.h"

namespace tdsim::tdx {

namespace {

constexpr uint64_t kPageSize = 4096;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// ReportFatalError's optional message: up to 64 bytes, low byte of each register first,
// NUL-terminated or full (GHCI; Linux tdx_panic fills it the same way).
std::string fatal_message(const std::array<uint64_t, 8>& regs) {
  std::string s;
  for (uint64_t r : regs)
    for (int i = 0; i < 8; ++i) {
      const char c = static_cast<char>(r >> (8 * i));
      if (c == '\0') return s;
      s.push_back(c);
    }
  return s;
}

uint64_t load_le(const uint8_t* p, uint32_t size) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < size; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

VmmCompletion with_event(Event e, bool stop = false) {
  VmmCompletion c;
  c.event = std::move(e);
  c.stop = stop;
  return c;
}

}  // namespace

VmmCompletion malformed_exit(uint32_t vcpu, uint64_t rip, std::string what) {
  return with_event(FaultEvent{vcpu, rip, -1, 0, false, "malformed KVM exit: " + what}, true);
}

VmmCompletion Vmm::handle(const UserspaceExit& exit) const {
  const uint32_t vcpu = exit.vcpu;
  const uint64_t rip = exit.rip;
  return std::visit(Overloaded{
                        [&](const MmioExit& x) { return mmio(vcpu, rip, x); },
                        [&](const PortIoExit& x) { return port_io(vcpu, rip, x); },
                        [&](const MapGpaExit& x) { return map_gpa(vcpu, rip, x); },
                        [&](const GetQuoteExit& x) { return get_quote(vcpu, rip, x); },
                        [&](const SetupEventNotifyExit& x) { return setup_event_notify(vcpu, rip, x); },
                        [&](const GetTdVmCallInfoExit& x) { return get_td_vmcall_info(vcpu, rip, x); },
                        [&](const FatalErrorExit& x) { return fatal_error(vcpu, rip, x); },
                    },
                    exit.kind);
}

VmmCompletion Vmm::mmio(uint32_t vcpu, uint64_t rip, const MmioExit& x) const {
  if (x.len != 1 && x.len != 2 && x.len != 4 && x.len != 8)
    return malformed_exit(vcpu, rip, fmt::format("MMIO at GPA {:#x} with length {} (KVM sends 1, 2, 4 or 8)",
                                               x.gpa, x.len));
  MmioEvent m{vcpu, x.gpa, x.len, x.is_write, mask_to_access_size(x.data, x.len)};
  if (x.is_write) {
    // A write is a ucall when it hits the agreed GPA; the decoder reads the slot.
    Event e = ucall::decode_mmio(mem_, m, image_.ucall_mmio_gpa, image_.shared_bit);
    const bool stop = is_terminal(e);
    return with_event(std::move(e), stop);
  }
  m.data = answer_mmio_read(cfg_.hooks.mmio_read, vcpu, m.gpa, m.len);
  VmmCompletion c = with_event(m);
  c.mmio_data = m.data;
  return c;
}

VmmCompletion Vmm::port_io(uint32_t vcpu, uint64_t rip, const PortIoExit& x) const {
  if (x.size != 1 && x.size != 2 && x.size != 4)
    return malformed_exit(vcpu, rip, fmt::format("port I/O {:#x} with size {} (must be 1, 2 or 4)", x.port, x.size));
  if (x.count == 0) return malformed_exit(vcpu, rip, fmt::format("port I/O {:#x} with count 0", x.port));
  const uint64_t bytes = uint64_t{x.count} * x.size;
  // KVM's port I/O data lives in one page after kvm_run: no exit carries more.
  if (bytes > kPageSize)
    return malformed_exit(vcpu, rip, fmt::format("port I/O {:#x}: count {} of size {} is more than the {}-byte "
                                                 "data page",
                                                 x.port, x.count, x.size, kPageSize));
  if (x.is_out && x.data.size() != bytes)
    return malformed_exit(vcpu, rip, fmt::format("port OUT {:#x}: {} data bytes for count {} of size {}", x.port,
                                                 x.data.size(), x.count, x.size));
  if (cfg_.hooks.port_device) {
    const PortRequest req{vcpu, x.port, x.size, x.is_out, x.count, x.is_out ? &x.data : nullptr, &mem_};
    if (std::optional<PortReply> r = cfg_.hooks.port_device(req)) {
      VmmCompletion c;
      c.event = std::move(r->event);
      if (!x.is_out) {
        // The model answers every byte; a short answer reads as all-ones, as a bus does.
        c.io_data = std::move(r->in_data);
        c.io_data.resize(bytes, 0xff);
      }
      return c;
    }
  }
  // No event: port devices are the host hooks' business (they see every access), and a
  // TD's port I/O is a #VE the guest handles, not a ucall transport.
  VmmCompletion c;
  if (x.is_out) {
    if (cfg_.hooks.io_write)
      for (uint32_t i = 0; i < x.count; ++i)
        cfg_.hooks.io_write(vcpu, x.port, x.size, load_le(x.data.data() + uint64_t{i} * x.size, x.size));
    return c;
  }
  const uint64_t dflt = cfg_.io_read_all_ones ? ~0ull : 0;
  c.io_data.reserve(bytes);
  for (uint32_t i = 0; i < x.count; ++i) {
    std::optional<uint64_t> v;
    if (cfg_.hooks.io_read) v = cfg_.hooks.io_read(vcpu, x.port, x.size);
    const uint64_t val = mask_to_access_size(v.value_or(dflt), x.size);
    for (uint32_t b = 0; b < x.size; ++b) c.io_data.push_back(static_cast<uint8_t>(val >> (8 * b)));
  }
  return c;
}

VmmCompletion Vmm::map_gpa(uint32_t vcpu, uint64_t rip, const MapGpaExit& x) const {
  if (x.attributes & ~kMapGpaKnownAttributes)
    return malformed_exit(vcpu, rip, fmt::format("KVM_HC_MAP_GPA_RANGE attributes {:#x} have unknown bits {:#x}",
                                                 x.attributes, x.attributes & ~kMapGpaKnownAttributes));
  if (x.npages == 0 || x.npages > (~0ull - x.gpa) / kPageSize)
    return malformed_exit(vcpu, rip, fmt::format("KVM_HC_MAP_GPA_RANGE at GPA {:#x}: {:#x} pages is empty or wraps",
                                                 x.gpa, x.npages));
  // The event names the range as the guest did: shared ranges carry the shared bit.
  const uint64_t gpa = (x.attributes & kMapGpaEncrypted) ? x.gpa : x.gpa | image_.shared_bit;
  VmmCompletion c = with_event(
      VmcallExitEvent{vcpu, rip, abi::kVmcallMapGpa, gpa, x.npages * kPageSize, 0, abi::kVmcallSuccess});
  c.ret = 0;  // converted: nothing to refuse, the simulated memory is both
  if (cfg_.hooks.memory_conversion)
    cfg_.hooks.memory_conversion(x.gpa, x.npages * kPageSize, !(x.attributes & kMapGpaEncrypted));
  return c;
}

VmmCompletion Vmm::get_quote(uint32_t vcpu, uint64_t rip, const GetQuoteExit& x) const {
  // No quoting service: the request completes (status SUCCESS) and the host sees where
  // the buffer is; a test's hook may fill it.
  VmmCompletion c = with_event(
      VmcallExitEvent{vcpu, rip, abi::kVmcallGetQuote, x.gpa | image_.shared_bit, x.size, 0, abi::kVmcallSuccess});
  c.ret = abi::kVmcallSuccess;
  return c;
}

VmmCompletion Vmm::setup_event_notify(uint32_t vcpu, uint64_t rip, const SetupEventNotifyExit& x) const {
  VmmCompletion c = with_event(
      VmcallExitEvent{vcpu, rip, abi::kVmcallSetupEventNotifyInterrupt, 0, 0, x.vector, abi::kVmcallSuccess});
  c.ret = abi::kVmcallSuccess;
  return c;
}

VmmCompletion Vmm::get_td_vmcall_info(uint32_t vcpu, uint64_t rip, const GetTdVmCallInfoExit& x) const {
  if (x.leaf != abi::kGetTdVmCallInfoLeaf1)
    return malformed_exit(vcpu, rip, fmt::format("GetTdVmCallInfo exit for leaf {:#x} (KVM exits for leaf 1 only)",
                                                 x.leaf));
  // This VMM offers no optional sub-functions: R11..R14 all zero.
  VmmCompletion c = with_event(
      VmcallExitEvent{vcpu, rip, abi::kVmcallGetTdVmCallInfo, 0, 0, x.leaf, abi::kVmcallSuccess});
  c.ret = abi::kVmcallSuccess;
  c.info = {0, 0, 0, 0};
  return c;
}

VmmCompletion Vmm::fatal_error(uint32_t vcpu, uint64_t rip, const FatalErrorExit& x) const {
  std::string detail = fmt::format("TDG.VP.VMCALL<ReportFatalError> error code {:#x}", x.error_code);
  if (x.error_code >> 63) detail += fmt::format(", extra info at GPA {:#x}", x.info_gpa);
  const std::string msg = fatal_message(x.message_regs);
  if (!msg.empty()) detail += fmt::format(": \"{}\"", msg);
  // The vCPU stops; a host may resume it (core/vm.h).
  VmmCompletion c = with_event(FaultEvent{vcpu, rip, -1, x.error_code, false, std::move(detail)}, true);
  c.ret = abi::kVmcallSuccess;
  return c;
}

}  // namespace tdsim::tdx
