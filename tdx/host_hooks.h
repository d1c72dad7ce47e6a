// What the host (VMM) side of the simulated TD answers: device reads and hostile-host
// overrides of TDG.VP.VMCALL results, plus the TD's configuration the TDX module
// reports (attributes, XFAM, CPUID model). Plain values and std::function members:
// engine-independent, so a test can hand the same hooks to any Unicorn session.
// The host can only influence what a real VMM could: TDG.VP.VMCALL results. Leaves the
// TDX module answers itself (TDG.VP.INFO, TDG.MR.REPORT, ...) are not overridable.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/backend.h"
#include "core/guest_memory.h"
#include "cpuid_model.h"
#include "ucall/host/tdvmcall.h"

namespace tdsim::tdx {

// A TDG.VP.VMCALL as KVM sees it: registers not exposed in RCX read 0 (ucall::vmm_view).
struct VmcallRequest {
  uint32_t vcpu = 0;
  uint64_t rip = 0;
  ucall::TdcallRegs regs;  // VMM view
};

// The VMM's answer: R10 status and the output registers it sets. Unset outputs keep the
// guest's values; the TDX module copies a value back only into exposed registers.
struct VmcallReply {
  uint64_t r10 = 0;
  std::optional<uint64_t> r11, r12, r13, r14, r15;
};

// One KVM_EXIT_IO as a port device model sees it: `count` accesses of `size` bytes to
// `port`; `data` holds the OUT bytes (count * size).
struct PortRequest {
  uint32_t vcpu = 0;
  uint16_t port = 0;
  uint32_t size = 0;
  bool is_out = false;
  uint32_t count = 1;
  const std::vector<uint8_t>* data = nullptr;  // OUT only
  // The guest memory a device may reach by DMA (its checks are the device's: a TD's
  // private pages are off limits, devices/dma_window.h); nullptr: none.
  GuestMemory* memory = nullptr;
};
// A device model's answer: IN data (count * size bytes) and what the host sees.
struct PortReply {
  std::vector<uint8_t> in_data;
  std::optional<Event> event;
};

struct HostHooks {
  // Consulted first for every standard TDG.VP.VMCALL (R10 == 0) that passed the TDX
  // module's own checks; a reply replaces KVM's handling entirely (no event but a
  // TdcallRejectedEvent when its status is not SUCCESS). nullopt = KVM handles it.
  std::function<std::optional<VmcallReply>(const VmcallRequest&)> vmcall;
  // Device model: the value of an MMIO read (len 1/2/4/8 at an untagged GPA) or a port
  // read (size 1/2/4). nullopt or unset = the defaults in TdxConfig.
  MmioReadHandler mmio_read;
  std::function<std::optional<uint64_t>(uint32_t vcpu, uint16_t port, uint32_t size)> io_read;
  // Port writes (KVM_EXIT_IO out): observed only.
  std::function<void(uint32_t vcpu, uint16_t port, uint32_t size, uint64_t value)> io_write;
  // Port devices that answer whole exits and report what was asked (the firmware
  // platform's models, devices/): asked first; nullopt = not a port it models, then
  // io_read / io_write and the defaults apply.
  std::function<std::optional<PortReply>(const PortRequest&)> port_device;
  // A private/shared conversion KVM accepted (KVM_HC_MAP_GPA_RANGE from MapGPA): `gpa`
  // untagged, `size` bytes, `shared` the new state. Observed only, by device models that
  // must not DMA into private memory.
  std::function<void(uint64_t gpa, uint64_t size, bool shared)> memory_conversion;
};

// KVM_CAP_MAX_VCPUS of the KVM tdsim plays: one per vCPU a tdsim layout can boot
// (LayoutSpec's kMaxVcpus). KVM_TDX_INIT_VM puts the VM's limit into TD_PARAMS.MAX_VCPUS
// (setup_tdparams: max_vcpus = kvm->max_vcpus) unless the VMM lowered it first with
// KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS); a real KVM's limit is min(KVM_MAX_VCPUS, the host's
// present CPUs) (tdx_vm_init).
inline constexpr uint32_t kKvmMaxVcpus = 64;

struct TdxConfig {
  uint64_t attributes = 0;  // TD ATTRIBUTES (TDG.VP.INFO RDX, TDREPORT): 0 = production TD
  uint64_t xfam = 0x3;      // x87 | SSE, the minimum XFAM
  uint32_t max_vcpus = 0;   // TD_PARAMS.MAX_VCPUS (TDG.VP.INFO R8[63:32]); 0 = kKvmMaxVcpus
  // SHA-384 sized values the host puts in KVM_TDX_INIT_VM; TDREPORT's TDINFO shows them.
  std::array<uint8_t, 48> mrconfigid{}, mrowner{}, mrownerconfig{};
  // VMCALL<CPUID> answers; nullopt = CpuidModel::default_for(image.gpaw).
  std::optional<CpuidModel> cpuid;
  // The VMM's CPUID configuration of the TD (KVM_TDX_INIT_VM's list) the TDX module builds
  // the CPUID instruction's values from (tdx/td_cpuid.h); nullopt = every configurable
  // bit as the CPU has it.
  std::optional<CpuidModel> cpuid_config;
  // Reads nobody answers: an absent port reads all-ones (what a PC bus returns); MMIO
  // reads 0, like the KVM backend (kvm/exit_events.cc), so `tdsim diff` agrees.
  bool io_read_all_ones = true;
  // KVM answers MapGPA only when userspace enabled KVM_HC_MAP_GPA_RANGE exits (QEMU does);
  // false = SUBFUNC_UNSUPPORTED, as with a VMM that did not.
  bool map_gpa_enabled = true;
  HostHooks hooks;
};

// The configuration with its MMIO device replaced by one that forwards to `*handler`:
// a platform's hooks are fixed when it is built, while a host (core/vm.h) may install or
// change its device later.
inline TdxConfig forward_mmio_reads(TdxConfig config, std::shared_ptr<MmioReadHandler> handler) {
  config.hooks.mmio_read = [h = std::move(handler)](uint32_t vcpu, uint64_t gpa,
                                                   uint32_t len) -> std::optional<uint64_t> {
    return *h ? (*h)(vcpu, gpa, len) : std::nullopt;
  };
  return config;
}

}  // namespace tdsim::tdx
