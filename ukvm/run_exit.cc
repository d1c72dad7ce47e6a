#include "run_exit.h"

#include <cerrno>
#include <cstring>

#include "kvm/tdx_uapi.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::ukvm {

namespace {

namespace t = kvm::tdx;

// KVM_EXIT_HYPERCALL's `flags` (the former longmode/pad pair): the guest is in 64-bit mode.
constexpr uint32_t kHypercallLongMode = 1;

uint8_t* io_area(kvm_run& run) { return reinterpret_cast<uint8_t*>(&run) + kPioDataOffset; }
const uint8_t* io_area(const kvm_run& run) { return reinterpret_cast<const uint8_t*>(&run) + kPioDataOffset; }

// The exit union, cleared so nothing of a previous exit shows through.
void clear_exit(kvm_run& run) { std::memset(&run.mmio, 0, sizeof run.padding); }

int write_userspace_exit(kvm_run& run, size_t run_size, const tdx::UserspaceExit& e) {
  clear_exit(run);
  if (const auto* m = std::get_if<tdx::MmioExit>(&e.kind)) {
    if (m->len == 0 || m->len > sizeof run.mmio.data) return -EIO;
    run.exit_reason = KVM_EXIT_MMIO;
    run.mmio.phys_addr = m->gpa;
    run.mmio.len = m->len;
    run.mmio.is_write = m->is_write;
    if (m->is_write) std::memcpy(run.mmio.data, &m->data, m->len);
    return 0;
  }
  if (const auto* io = std::get_if<tdx::PortIoExit>(&e.kind)) {
    const uint64_t bytes = uint64_t{io->count} * io->size;
    if (run_size < kPioDataOffset || bytes > run_size - kPioDataOffset) return -EIO;
    if (io->is_out && io->data.size() != bytes) return -EIO;
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = io->is_out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
    run.io.size = static_cast<uint8_t>(io->size);
    run.io.port = io->port;
    run.io.count = io->count;
    run.io.data_offset = kPioDataOffset;
    if (io->is_out) std::memcpy(io_area(run), io->data.data(), bytes);
    else std::memset(io_area(run), 0, bytes);
    return 0;
  }
  if (const auto* g = std::get_if<tdx::MapGpaExit>(&e.kind)) {
    run.exit_reason = KVM_EXIT_HYPERCALL;
    run.hypercall.nr = tdx::kKvmHcMapGpaRange;
    run.hypercall.args[0] = g->gpa;
    run.hypercall.args[1] = g->npages;
    run.hypercall.args[2] = g->attributes;
    run.hypercall.ret = 0;
    run.hypercall.longmode = kHypercallLongMode;
    return 0;
  }
  t::TdxExit x{};
  if (const auto* q = std::get_if<tdx::GetQuoteExit>(&e.kind)) {
    x.nr = abi::kVmcallGetQuote;
    x.ret = abi::kVmcallSubfnUnsupported;  // KVM's preset until userspace answers
    x.a[0] = q->gpa;
    x.a[1] = q->size;
  } else if (const auto* n = std::get_if<tdx::SetupEventNotifyExit>(&e.kind)) {
    x.nr = abi::kVmcallSetupEventNotifyInterrupt;
    x.ret = abi::kVmcallSubfnUnsupported;
    x.a[0] = n->vector;
  } else if (const auto* i = std::get_if<tdx::GetTdVmCallInfoExit>(&e.kind)) {
    x.nr = abi::kVmcallGetTdVmCallInfo;
    x.ret = abi::kVmcallSuccess;
    x.a[0] = i->leaf;
  } else if (const auto* f = std::get_if<tdx::FatalErrorExit>(&e.kind)) {
    run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
    run.system_event.type = t::kSystemEventTdxFatal;
    run.system_event.ndata = t::kTdxFatalNdata;
    // The GPRs in VCPU_REGS order; those the exit does not carry read 0, except R11,
    // which holds the sub-function.
    run.system_event.data[11] = abi::kVmcallReportFatalError;
    run.system_event.data[t::kTdxFatalErrorCodeIndex] = f->error_code;
    run.system_event.data[t::kTdxFatalGpaIndex] = f->info_gpa;
    for (size_t k = 0; k < f->message_regs.size(); ++k) run.system_event.data[t::kTdxFatalMessageIndex[k]] = f->message_regs[k];
    return 0;
  } else {
    return -EIO;
  }
  run.exit_reason = t::kExitTdx;
  t::set_tdx_exit(run, x);
  return 0;
}

}  // namespace

int write_run_exit(kvm_run& run, size_t run_size, const RunExit& exit) {
  if (const auto* u = std::get_if<tdx::UserspaceExit>(&exit)) return write_userspace_exit(run, run_size, *u);
  // BudgetExceeded has no KVM exit; the vCPU code ends the program before it gets here.
  // A TD's HLT has none either (its local APIC is in the kernel): KVM blocks the vCPU in
  // KVM_RUN until an interrupt or a signal, and the signal ends it like any other; the
  // vCPU code blocks before it gets here.
  if (std::holds_alternative<Interrupted>(exit) || std::holds_alternative<BudgetExceeded>(exit) ||
      std::holds_alternative<Halted>(exit)) {
    run.exit_reason = KVM_EXIT_INTR;
    return -EINTR;
  }
  clear_exit(run);
  run.exit_reason = KVM_EXIT_SHUTDOWN;
  return 0;
}

std::optional<tdx::VmmCompletion> read_completion(const kvm_run& run, size_t run_size, const tdx::UserspaceExit& e) {
  tdx::VmmCompletion c;
  if (const auto* m = std::get_if<tdx::MmioExit>(&e.kind)) {
    // KVM takes the `len` bytes it asked for from mmio.data, whatever else changed.
    if (!m->is_write && m->len <= sizeof run.mmio.data) std::memcpy(&c.mmio_data, run.mmio.data, m->len);
    return c;
  }
  if (const auto* io = std::get_if<tdx::PortIoExit>(&e.kind)) {
    const uint64_t bytes = uint64_t{io->count} * io->size;
    if (!io->is_out && run_size >= kPioDataOffset && bytes <= run_size - kPioDataOffset)
      c.io_data.assign(io_area(run), io_area(run) + bytes);
    return c;
  }
  if (std::holds_alternative<tdx::MapGpaExit>(e.kind)) {
    c.ret = run.hypercall.ret;
    return c;
  }
  if (std::holds_alternative<tdx::FatalErrorExit>(e.kind)) return std::nullopt;
  const t::TdxExit x = t::tdx_exit(run);
  c.ret = x.ret;
  if (std::holds_alternative<tdx::GetTdVmCallInfoExit>(e.kind))
    for (size_t k = 0; k < c.info.size(); ++k) c.info[k] = x.a[1 + k];
  return c;
}

bool reenterable(const RunExit& exit) {
  if (std::holds_alternative<Shutdown>(exit)) return false;
  if (const auto* u = std::get_if<tdx::UserspaceExit>(&exit))
    return !std::holds_alternative<tdx::FatalErrorExit>(u->kind);
  return true;
}

}  // namespace tdsim::ukvm
