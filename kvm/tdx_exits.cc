#include "tdx_exits.h"

#include <asm/kvm_para.h>
#include <fmt/format.h>
#include <linux/kvm_para.h>

#include <cstring>

#include "exit_events.h"
#include "tdsim/abi/tdx.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

namespace platform = ::tdsim::tdx;

static_assert(platform::kKvmHcMapGpaRange == KVM_HC_MAP_GPA_RANGE);
static_assert(platform::kMapGpaEncrypted == KVM_MAP_GPA_RANGE_ENCRYPTED);
static_assert(platform::kMapGpaDecrypted == KVM_MAP_GPA_RANGE_DECRYPTED);

FaultEvent malformed(uint32_t vcpu, uint64_t rip, const std::string& what) {
  return std::get<FaultEvent>(*platform::malformed_exit(vcpu, rip, what).event);
}

// The I/O data area of a KVM_EXIT_IO: after the kvm_run structure (KVM puts it one page
// on) and inside the mapping. nullopt = where it may be written; else why not.
std::optional<std::string> io_area_error(const kvm_run& run, size_t run_size) {
  const uint64_t bytes = uint64_t{run.io.count} * run.io.size;
  const uint64_t off = run.io.data_offset;
  if (off < sizeof(kvm_run) || off > run_size || bytes > run_size - off)
    return fmt::format("port I/O data at offset {:#x}, {} bytes ({} x {}), lies outside the {:#x}-byte vCPU "
                       "mapping after kvm_run ({:#x} bytes)",
                       off, bytes, run.io.count, run.io.size, run_size, sizeof(kvm_run));
  return std::nullopt;
}

VmmExitOrFault read_io(const kvm_run& run, size_t run_size, uint32_t vcpu, uint64_t rip) {
  if (run.io.direction != KVM_EXIT_IO_IN && run.io.direction != KVM_EXIT_IO_OUT)
    return malformed(vcpu, rip, fmt::format("KVM_EXIT_IO direction {} (0 in, 1 out)", run.io.direction));
  if (run.io.size != 1 && run.io.size != 2 && run.io.size != 4)
    return malformed(vcpu, rip, fmt::format("KVM_EXIT_IO port {:#x} size {} (1, 2 or 4)", run.io.port, run.io.size));
  if (run.io.count == 0) return malformed(vcpu, rip, fmt::format("KVM_EXIT_IO port {:#x} count 0", run.io.port));
  if (auto err = io_area_error(run, run_size)) return malformed(vcpu, rip, "KVM_EXIT_IO " + *err);
  platform::PortIoExit x{run.io.port, run.io.size, run.io.direction == KVM_EXIT_IO_OUT, run.io.count, {}};
  if (x.is_out) {
    const auto* base = reinterpret_cast<const uint8_t*>(&run) + run.io.data_offset;
    x.data.assign(base, base + uint64_t{run.io.count} * run.io.size);
  }
  return platform::UserspaceExit{vcpu, rip, std::move(x)};
}

VmmExitOrFault read_mmio(const kvm_run& run, uint32_t vcpu, uint64_t rip) {
  if (run.mmio.len == 0 || run.mmio.len > sizeof run.mmio.data)
    return malformed(vcpu, rip,
                     fmt::format("KVM_EXIT_MMIO at GPA {:#x} with length {} (1 to 8)", run.mmio.phys_addr, run.mmio.len));
  platform::MmioExit x{run.mmio.phys_addr, run.mmio.len, run.mmio.is_write != 0, 0};
  if (x.is_write) std::memcpy(&x.data, run.mmio.data, run.mmio.len);
  return platform::UserspaceExit{vcpu, rip, x};
}

VmmExitOrFault read_hypercall(const kvm_run& run, uint32_t vcpu, uint64_t rip) {
  if (run.hypercall.nr != KVM_HC_MAP_GPA_RANGE)
    return malformed(vcpu, rip,
                     fmt::format("KVM_EXIT_HYPERCALL {} (only KVM_HC_MAP_GPA_RANGE, 12, is enabled)", run.hypercall.nr));
  return platform::UserspaceExit{
      vcpu, rip, platform::MapGpaExit{run.hypercall.args[0], run.hypercall.args[1], run.hypercall.args[2]}};
}

VmmExitOrFault read_tdx(const kvm_run& run, uint32_t vcpu, uint64_t rip) {
  const tdx::TdxExit t = tdx::tdx_exit(run);
  if (t.flags != 0) return malformed(vcpu, rip, fmt::format("KVM_EXIT_TDX flags {:#x} (none are defined)", t.flags));
  switch (t.nr) {
    case abi::kVmcallGetQuote:
      return platform::UserspaceExit{vcpu, rip, platform::GetQuoteExit{t.a[0], t.a[1]}};
    case abi::kVmcallSetupEventNotifyInterrupt:
      return platform::UserspaceExit{vcpu, rip, platform::SetupEventNotifyExit{t.a[0]}};
    case abi::kVmcallGetTdVmCallInfo:
      return platform::UserspaceExit{vcpu, rip, platform::GetTdVmCallInfoExit{t.a[0]}};
    default:
      return malformed(vcpu, rip,
                       fmt::format("KVM_EXIT_TDX with unknown TDG.VP.VMCALL sub-function {:#x} (GetTdVmCallInfo "
                                   "0x10000, GetQuote 0x10002, SetupEventNotifyInterrupt 0x10004 are known)",
                                   t.nr));
  }
}

VmmExitOrFault read_fatal(const kvm_run& run, uint32_t vcpu, uint64_t rip) {
  const uint32_t n = run.system_event.ndata;
  if (n <= tdx::kTdxFatalGpaIndex || n > tdx::kTdxFatalNdata)
    return malformed(vcpu, rip,
                     fmt::format("KVM_SYSTEM_EVENT_TDX_FATAL with ndata {} (KVM reports the {} GPRs)", n,
                                 tdx::kTdxFatalNdata));
  platform::FatalErrorExit x;
  x.error_code = run.system_event.data[tdx::kTdxFatalErrorCodeIndex];
  x.info_gpa = run.system_event.data[tdx::kTdxFatalGpaIndex];
  for (size_t i = 0; i < x.message_regs.size(); ++i) {
    const uint32_t at = tdx::kTdxFatalMessageIndex[i];
    x.message_regs[i] = at < n ? run.system_event.data[at] : 0;
  }
  return platform::UserspaceExit{vcpu, rip, x};
}

template <class T>
const T* kind(const platform::UserspaceExit& e) {
  return std::get_if<T>(&e.kind);
}

}  // namespace

std::optional<VmmExitOrFault> read_vmm_exit(const kvm_run& run, size_t run_size, uint32_t vcpu, uint64_t rip) {
  switch (run.exit_reason) {
    case KVM_EXIT_MMIO: return read_mmio(run, vcpu, rip);
    case KVM_EXIT_IO: return read_io(run, run_size, vcpu, rip);
    case KVM_EXIT_HYPERCALL: return read_hypercall(run, vcpu, rip);
    case tdx::kExitTdx: return read_tdx(run, vcpu, rip);
    case KVM_EXIT_SYSTEM_EVENT:
      if (run.system_event.type == tdx::kSystemEventTdxFatal) return read_fatal(run, vcpu, rip);
      return std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<std::string> write_completion(kvm_run& run, size_t run_size, const platform::UserspaceExit& exit,
                                            const platform::VmmCompletion& c) {
  if (const auto* m = kind<platform::MmioExit>(exit)) {
    if (m->is_write) return std::nullopt;
    if (run.exit_reason != KVM_EXIT_MMIO || m->len == 0 || m->len > sizeof run.mmio.data)
      return fmt::format("MMIO read completion does not match the exit ({})", describe_exit(run));
    // KVM copies `len` bytes of mmio.data into the guest's R11 on the next KVM_RUN.
    std::memset(run.mmio.data, 0, sizeof run.mmio.data);
    std::memcpy(run.mmio.data, &c.mmio_data, m->len);
    return std::nullopt;
  }
  if (const auto* io = kind<platform::PortIoExit>(exit)) {
    if (io->is_out) return std::nullopt;
    if (run.exit_reason != KVM_EXIT_IO || run.io.count != io->count || run.io.size != io->size)
      return fmt::format("port IN completion does not match the exit ({})", describe_exit(run));
    if (auto err = io_area_error(run, run_size)) return "port IN completion: " + *err;
    const uint64_t bytes = uint64_t{io->count} * io->size;
    if (c.io_data.size() != bytes)
      return fmt::format("port IN completion has {} bytes for {} x {}", c.io_data.size(), io->count, io->size);
    std::memcpy(reinterpret_cast<uint8_t*>(&run) + run.io.data_offset, c.io_data.data(), bytes);
    return std::nullopt;
  }
  if (kind<platform::MapGpaExit>(exit)) {
    if (run.exit_reason != KVM_EXIT_HYPERCALL) return "MapGPA completion on a different exit: " + describe_exit(run);
    run.hypercall.ret = c.ret;
    return std::nullopt;
  }
  if (kind<platform::GetQuoteExit>(exit) || kind<platform::SetupEventNotifyExit>(exit) ||
      kind<platform::GetTdVmCallInfoExit>(exit)) {
    if (run.exit_reason != tdx::kExitTdx) return "KVM_EXIT_TDX completion on a different exit: " + describe_exit(run);
    tdx::TdxExit t = tdx::tdx_exit(run);
    t.ret = c.ret;
    if (kind<platform::GetTdVmCallInfoExit>(exit))
      for (size_t i = 0; i < c.info.size(); ++i) t.a[1 + i] = c.info[i];
    tdx::set_tdx_exit(run, t);
    return std::nullopt;
  }
  return std::nullopt;  // ReportFatalError: nothing to write, the vCPU does not re-enter
}

TdxExitOutcome handle_vmm_exit(kvm_run& run, size_t run_size, uint32_t vcpu, const platform::Vmm& vmm,
                               uint64_t rip) {
  TdxExitOutcome out;
  std::optional<VmmExitOrFault> read = read_vmm_exit(run, run_size, vcpu, rip);
  if (!read) return out;
  out.handled = true;
  if (auto* f = std::get_if<FaultEvent>(&*read)) {
    out.event = std::move(*f);
    out.stop = true;
    return out;
  }
  const auto& exit = std::get<platform::UserspaceExit>(*read);
  platform::VmmCompletion c = vmm.handle(exit);
  out.stop = c.stop;
  if (!c.stop) {
    if (auto err = write_completion(run, run_size, exit, c)) {
      out.event = malformed(vcpu, rip, *err);
      out.stop = true;
      return out;
    }
  }
  out.event = std::move(c.event);
  return out;
}

}  // namespace tdsim::kvm
