#include "exit_events.h"

#include <fmt/format.h>

#include <cstring>

#include "tdx_uapi.h"
#include "ucall/host/ucall_decoder.h"

namespace tdsim::kvm {

MmioEvent mmio_event_from_run(const kvm_run& run, uint32_t vcpu) {
  MmioEvent ev;
  ev.vcpu = vcpu;
  ev.gpa = run.mmio.phys_addr;
  ev.len = run.mmio.len;
  ev.is_write = run.mmio.is_write != 0;
  if (ev.is_write) std::memcpy(&ev.data, run.mmio.data, ev.len <= 8 ? ev.len : 8);
  return ev;
}

Event decode_mmio_exit(kvm_run& run, uint32_t vcpu, const TdImage& image, const GuestMemory& mem,
                       const MmioReadHandler& read) {
  MmioEvent ev = mmio_event_from_run(run, vcpu);
  if (!ev.is_write) {
    // KVM copies run->mmio.data into the destination on the next KVM_RUN.
    ev.data = answer_mmio_read(read, vcpu, ev.gpa, ev.len);
    std::memset(run.mmio.data, 0, sizeof run.mmio.data);
    std::memcpy(run.mmio.data, &ev.data, ev.len <= 8 ? ev.len : 8);
  }
  return ucall::decode_mmio(mem, ev, image.ucall_mmio_gpa, image.shared_bit);
}

std::string exit_reason_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    case tdx::kExitMemoryFault: return "KVM_EXIT_MEMORY_FAULT";
    case tdx::kExitTdx: return "KVM_EXIT_TDX";
  }
  return fmt::format("exit reason {}", reason);
}

bool emulation_failure_bytes(const kvm_run& run, const uint8_t** bytes, uint32_t* len) {
  if (run.exit_reason != KVM_EXIT_INTERNAL_ERROR ||
      run.emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION ||
      !(run.emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
    return false;
  *bytes = run.emulation_failure.insn_bytes;
  *len = run.emulation_failure.insn_size <= sizeof run.emulation_failure.insn_bytes
             ? run.emulation_failure.insn_size
             : sizeof run.emulation_failure.insn_bytes;
  return true;
}

std::string describe_exit(const kvm_run& run) {
  std::string s = exit_reason_name(run.exit_reason);
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      s += fmt::format(": {} port 0x{:x}, size {}, count {}",
                       run.io.direction == KVM_EXIT_IO_OUT ? "OUT" : "IN", run.io.port,
                       run.io.size, run.io.count);
      break;
    case KVM_EXIT_FAIL_ENTRY:
      s += fmt::format(": hardware_entry_failure_reason 0x{:x} on cpu {}",
                       run.fail_entry.hardware_entry_failure_reason, run.fail_entry.cpu);
      break;
    case KVM_EXIT_INTERNAL_ERROR: {
      s += fmt::format(": suberror {}", run.internal.suberror);
      const uint8_t* b;
      uint32_t n;
      if (emulation_failure_bytes(run, &b, &n)) {
        s += " (emulation failure), instruction bytes";
        for (uint32_t i = 0; i < n; ++i) s += fmt::format(" {:02x}", b[i]);
      } else {
        uint32_t nd = run.internal.ndata <= 16 ? run.internal.ndata : 16;
        for (uint32_t i = 0; i < nd; ++i) s += fmt::format(", data[{}] 0x{:x}", i, run.internal.data[i]);
      }
      break;
    }
    case KVM_EXIT_SYSTEM_EVENT:
      s += fmt::format(": type {}, ndata {}", run.system_event.type, run.system_event.ndata);
      break;
    case tdx::kExitMemoryFault: {
      const auto& mf = tdx::memory_fault(run);
      s += fmt::format(": gpa 0x{:x}, size 0x{:x}, flags 0x{:x}{}", mf.gpa, mf.size, mf.flags,
                       (mf.flags & tdx::kMemoryExitFlagPrivate) ? " (private)" : "");
      break;
    }
    default:
      break;
  }
  return s;
}

}  // namespace tdsim::kvm
