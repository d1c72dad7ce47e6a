// The VMM behind KVM: what userspace answers when KVM hands it a TDG.VP.VMCALL it does not
// complete in the kernel, and which event the host sees. Engine-free and backend-free:
// the exit is described as KVM presents it in kvm_run (shared bit already stripped where
// KVM strips it), and the answer is what userspace writes back before the next KVM_RUN.
// Two callers feed it: the simulated KVM in tdx/vmcall_subfns.cc (Unicorn, plain KVM) and
// the kvm-tdx backend's kvm_run translation (kvm/tdx_exits.cc), so there is one
// implementation of the VMM's answers. Facts it follows: docs/tdx-abi.md, "KVM's
// userspace exits for a TD".
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "host_hooks.h"

namespace tdsim::tdx {

// KVM_EXIT_MMIO (from TDG.VP.VMCALL<#VE.RequestMMIO>): GPA without the shared bit,
// len 1/2/4/8, the written bytes as a little-endian value.
struct MmioExit {
  uint64_t gpa = 0;
  uint32_t len = 0;
  bool is_write = false;
  uint64_t data = 0;  // writes only
};

// KVM_EXIT_IO (from TDG.VP.VMCALL<Instruction.IO>, or a string/REP form): `count`
// accesses of `size` bytes each to one port; `data` holds count * size bytes for OUT.
struct PortIoExit {
  uint16_t port = 0;
  uint32_t size = 0;  // 1, 2 or 4
  bool is_out = false;
  uint32_t count = 0;
  std::vector<uint8_t> data;  // OUT only
};

// KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE) (from TDG.VP.VMCALL<MapGPA>): one chunk of the
// range, GPA without the shared bit, the target state in `attributes`.
struct MapGpaExit {
  uint64_t gpa = 0;
  uint64_t npages = 0;      // 4 KiB pages
  uint64_t attributes = 0;  // kMapGpaEncrypted (private) or kMapGpaDecrypted (shared) | page size
};
inline constexpr uint64_t kKvmHcMapGpaRange = 12;          // KVM_HC_MAP_GPA_RANGE
inline constexpr uint64_t kMapGpaPageSizeMask = 0x3;       // 4K = 0, 2M = 1, 1G = 2
inline constexpr uint64_t kMapGpaEncrypted = 1ull << 4;    // KVM_MAP_GPA_RANGE_ENCRYPTED
inline constexpr uint64_t kMapGpaDecrypted = 0;            // KVM_MAP_GPA_RANGE_DECRYPTED
inline constexpr uint64_t kMapGpaKnownAttributes = kMapGpaPageSizeMask | kMapGpaEncrypted;

// KVM_EXIT_TDX, nr = GetQuote: the shared buffer, GPA without the shared bit.
struct GetQuoteExit {
  uint64_t gpa = 0;
  uint64_t size = 0;
};

// KVM_EXIT_TDX, nr = SetupEventNotifyInterrupt: the vector (KVM checked 32..255).
struct SetupEventNotifyExit {
  uint64_t vector = 0;
};

// KVM_EXIT_TDX, nr = GetTdVmCallInfo: leaf 1 (KVM answers leaf 0 itself).
struct GetTdVmCallInfoExit {
  uint64_t leaf = 0;
};

// KVM_EXIT_SYSTEM_EVENT(TDX_FATAL) (from TDG.VP.VMCALL<ReportFatalError>): the error code
// (R12), the GPA of the extra information (R13, meaningful when code bit 63 is set) and
// the optional message registers in GHCI order: R14, R15, RBX, RDI, RSI, R8, R9, RDX.
struct FatalErrorExit {
  uint64_t error_code = 0;
  uint64_t info_gpa = 0;
  std::array<uint64_t, 8> message_regs{};
};

using ExitKind = std::variant<MmioExit, PortIoExit, MapGpaExit, GetQuoteExit, SetupEventNotifyExit,
                              GetTdVmCallInfoExit, FatalErrorExit>;

struct UserspaceExit {
  uint32_t vcpu = 0;
  uint64_t rip = 0;  // the TDCALL's RIP where known (0 on a real TD)
  ExitKind kind;
};

// What userspace writes back before the next KVM_RUN, and what the host sees.
struct VmmCompletion {
  uint64_t mmio_data = 0;        // MMIO read: the low `len` bytes (run->mmio.data)
  std::vector<uint8_t> io_data;  // port IN: count * size bytes (run's I/O data area)
  // KVM_EXIT_TDX: the TDG.VP.VMCALL status KVM puts in R10 (its `ret` field).
  // KVM_EXIT_HYPERCALL: hypercall.ret, 0 or a negative errno (KVM turns non-zero into
  // INVALID_OPERAND for MapGPA).
  uint64_t ret = 0;
  std::array<uint64_t, 4> info{};  // GetTdVmCallInfo: R11..R14
  std::optional<Event> event;      // what the host sees, if anything
  bool stop = false;               // the vCPU does not resume (terminal ucall, fatal error)
};

class Vmm {
 public:
  // `image`, `mem` and `config` must outlive this object. Reads guest memory to decode
  // ucalls (ucall::decode_mmio); answers device reads from config.hooks, whose port
  // devices may DMA into `mem` (PortRequest::memory).
  Vmm(const TdImage& image, GuestMemory& mem, const TdxConfig& config)
      : image_(image), mem_(mem), cfg_(config) {}

  // The one entry point: an exit in, the completion and the event out. Never throws for
  // guest-controlled values; an exit that breaks KVM's own rules (a size KVM never
  // produces) is answered with a FaultEvent that stops the vCPU.
  VmmCompletion handle(const UserspaceExit& exit) const;

 private:
  VmmCompletion mmio(uint32_t vcpu, uint64_t rip, const MmioExit& x) const;
  VmmCompletion port_io(uint32_t vcpu, uint64_t rip, const PortIoExit& x) const;
  VmmCompletion map_gpa(uint32_t vcpu, uint64_t rip, const MapGpaExit& x) const;
  VmmCompletion get_quote(uint32_t vcpu, uint64_t rip, const GetQuoteExit& x) const;
  VmmCompletion setup_event_notify(uint32_t vcpu, uint64_t rip, const SetupEventNotifyExit& x) const;
  VmmCompletion get_td_vmcall_info(uint32_t vcpu, uint64_t rip, const GetTdVmCallInfoExit& x) const;
  VmmCompletion fatal_error(uint32_t vcpu, uint64_t rip, const FatalErrorExit& x) const;

  const TdImage& image_;
  GuestMemory& mem_;
  const TdxConfig& cfg_;
};

// A FaultEvent for an exit the VMM cannot take (malformed or unknown), stopping the vCPU:
// one wording for every caller.
VmmCompletion malformed_exit(uint32_t vcpu, uint64_t rip, std::string what);

}  // namespace tdsim::tdx
