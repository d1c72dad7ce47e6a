// The KVM TDX launch sequence for a TdImage as data: an ordered list of ioctl steps,
// computed by a pure function (no /dev/kvm), so the ordering rules of docs/tdx-abi.md,
// "Launch ordering rules" are unit-tested here and the TDX backend only executes the list.
// Depends on core/ (TdImage, launch_order) and tdx_uapi.h; performs no system calls.
#pragma once
#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/td_image.h"
#include "tdx/host_hooks.h"

namespace tdsim::kvm {

enum class TdxIoctl {
  kCheckVmTypes,          // KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES) has bit 5
  kCreateVm,              // KVM_CREATE_VM(KVM_X86_TDX_VM)
  kTdxCapabilities,       // KVM_MEMORY_ENCRYPT_OP(KVM_TDX_CAPABILITIES)
  kEnableSplitIrqchip,    // KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP, 24 IOAPIC pins)
  kEnableExitHypercall,   // KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL, 1 << KVM_HC_MAP_GPA_RANGE)
  kEnableMaxVcpus,        // KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS, TdxConfig::max_vcpus), only when it is set
  kTdxInitVm,             // KVM_MEMORY_ENCRYPT_OP(KVM_TDX_INIT_VM)
  kCreateVcpu,            // KVM_CREATE_VCPU(i)
  kTdxGetCpuid,           // vCPU KVM_MEMORY_ENCRYPT_OP(KVM_TDX_GET_CPUID)
  kSetCpuid2,             // KVM_SET_CPUID2 with what GET_CPUID returned and the VMM's own leaves
  kTdxInitVcpu,           // vCPU KVM_MEMORY_ENCRYPT_OP(KVM_TDX_INIT_VCPU, data = init RCX)
  kCreateGuestMemfd,      // KVM_CREATE_GUEST_MEMFD for one private region
  kSetUserMemoryRegion2,  // KVM_SET_USER_MEMORY_REGION2 for one region
  kSetMemoryAttributes,   // KVM_SET_MEMORY_ATTRIBUTES(PRIVATE) for one private region
  kTdxInitMemRegion,      // vCPU 0 KVM_MEMORY_ENCRYPT_OP(KVM_TDX_INIT_MEM_REGION)
  kTdxFinalizeVm,         // KVM_MEMORY_ENCRYPT_OP(KVM_TDX_FINALIZE_VM)
  kRun,                   // KVM_RUN on vCPU i (one thread each)
};

const char* to_string(TdxIoctl k);

struct TdxScope {
  enum Kind { kSystem, kVm, kVcpu } kind = kVm;
  uint32_t vcpu = 0;  // kVcpu only
};

// Typed payloads; host addresses and fds are bound when the plan is executed.
struct NoPayload {};
struct VmTypePayload { unsigned long type; };
struct EnableCapPayload { long cap; uint64_t arg0; };
struct InitVmPayload {
  uint64_t attributes;
  uint64_t xfam;  // reaches KVM as CPUID 0xd in `cpuid` (the struct's own field stays 0)
  uint32_t gpaw;  // goes to CPUID 0x80000008 EAX[23:16]
  std::array<uint8_t, 48> mrconfigid{}, mrowner{}, mrownerconfig{};
  ::tdsim::tdx::CpuidModel cpuid;  // the TD CPUID model (tdx/td_cpuid.h) the list is limited to
};
// KVM answers TDG.VP.VMCALL<Instruction.CPUID> (the leaves the TDX module makes a #VE)
// from the vCPU's KVM_SET_CPUID2 table: the VMM's own leaves (TdxConfig::cpuid, e.g. the
// hypervisor leaves QEMU adds) go into it next to what KVM_TDX_GET_CPUID returned.
struct SetCpuid2Payload {
  std::optional<::tdsim::tdx::CpuidModel> vmm;
};
struct VcpuIdPayload { uint32_t id; };
struct InitVcpuPayload { uint64_t init_rcx; };
struct GuestMemfdPayload { size_t region; uint64_t size; uint64_t flags; };
struct MemRegion2Payload {
  uint32_t slot;
  uint32_t flags;          // kMemGuestMemfd for private regions
  uint64_t gpa;            // untagged: KVM strips the shared bit before memslot lookup
  uint64_t size;
  size_t region;           // userspace_addr = this region's host memory
  bool guest_memfd;        // guest_memfd = the fd created for `region`, offset 0
};
struct MemAttributesPayload { uint64_t address; uint64_t size; uint64_t attributes; };
struct InitMemRegionPayload {
  uint64_t gpa;
  uint64_t nr_pages;
  bool measure;            // KVM_TDX_MEASURE_MEMORY_REGION
  size_t region;           // source = region host memory + (gpa - region.gpa)
};

using TdxPayload = std::variant<NoPayload, VmTypePayload, EnableCapPayload, InitVmPayload, SetCpuid2Payload,
                                VcpuIdPayload, InitVcpuPayload, GuestMemfdPayload,
                                MemRegion2Payload, MemAttributesPayload, InitMemRegionPayload>;

struct TdxStep {
  TdxIoctl ioctl;
  TdxScope scope;
  TdxPayload payload;
  unsigned long request = 0;  // the ioctl number (0 for KVM_RUN-free checks)
  uint32_t tdx_cmd = ~0u;     // KVM_TDX_* id for KVM_MEMORY_ENCRYPT_OP steps
  std::string description;    // one line, for logs and `tdsim probe --plan`
};

struct TdxPlan {
  std::vector<TdxStep> steps;
  std::string to_text() const;  // one numbered line per step
};

// Pure: the same image always yields the same plan.
TdxPlan plan_tdx_launch(const TdImage& image, const ::tdsim::tdx::TdxConfig& config = {});

}  // namespace tdsim::kvm
