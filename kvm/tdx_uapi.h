// Our own copy of the KVM TDX / guest_memfd / memory-attributes uAPI (Linux 6.16+;
// docs/tdx-abi.md, "KVM TDX uAPI"): Debian's linux-libc-dev may predate it. Every size,
// offset and ioctl number is pinned with static_assert against the values the kernel uses.
// Depends only on <linux/kvm.h> (for struct kvm_run and the _IO* macros).
#pragma once
#include <linux/ioctl.h>
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tdsim::kvm::tdx {

// VM types (KVM_CREATE_VM argument; KVM_CAP_VM_TYPES bit n = type n supported).
inline constexpr unsigned long kX86DefaultVm = 0;
inline constexpr unsigned long kX86TdxVm = 5;

// Capabilities.
inline constexpr long kCapSplitIrqchip = 121;
inline constexpr long kCapUserMemory2 = 231;
inline constexpr long kCapMemoryFaultInfo = 232;
inline constexpr long kCapMemoryAttributes = 233;
inline constexpr long kCapGuestMemfd = 234;
inline constexpr long kCapVmTypes = 235;
// KVM_CAP_EXIT_HYPERCALL: args[0] is a mask of hypercall numbers KVM hands to userspace
// as KVM_EXIT_HYPERCALL; TDG.VP.VMCALL<MapGPA> needs bit KVM_HC_MAP_GPA_RANGE (12) set.
inline constexpr long kCapExitHypercall = 201;

// Exits.
inline constexpr uint32_t kExitSystemEvent = 24;
inline constexpr uint32_t kExitMemoryFault = 39;
inline constexpr uint32_t kExitTdx = 40;
inline constexpr uint32_t kSystemEventTdxFatal = 7;
// KVM_EXIT_SYSTEM_EVENT/TDX_FATAL: data[] holds the 16 GPRs in VCPU_REGS order.
inline constexpr uint32_t kTdxFatalErrorCodeIndex = 12;  // R12
inline constexpr uint32_t kTdxFatalGpaIndex = 13;        // R13
inline constexpr uint64_t kMemoryExitFlagPrivate = 1ull << 3;
// KVM_EXIT_SYSTEM_EVENT/TDX_FATAL: ReportFatalError's message registers (R14, R15, RBX,
// RDI, RSI, R8, R9, RDX, GHCI order) as indices into data[].
inline constexpr uint32_t kTdxFatalMessageIndex[8] = {14, 15, 3, 7, 6, 8, 9, 2};
inline constexpr uint32_t kTdxFatalNdata = 16;
// x86 KVM_PIO_PAGE_OFFSET: KVM puts KVM_EXIT_IO's data one page after kvm_run.
inline constexpr uint64_t kPioPageOffset = 1;

// KVM_MEMORY_ENCRYPT_OP sub-commands (enum kvm_tdx_cmd_id).
enum TdxCmdId : uint32_t {
  kTdxCapabilities = 0,    // VM
  kTdxInitVm = 1,          // VM
  kTdxInitVcpu = 2,        // vCPU
  kTdxInitMemRegion = 3,   // vCPU
  kTdxFinalizeVm = 4,      // VM
  kTdxGetCpuid = 5,        // vCPU
};
inline constexpr uint32_t kTdxMeasureMemoryRegion = 1u << 0;

// Memslot flags and memory attributes.
inline constexpr uint32_t kMemGuestMemfd = 1u << 2;
inline constexpr uint64_t kMemoryAttributePrivate = 1ull << 3;
inline constexpr uint64_t kGuestMemfdFlagMmap = 1ull << 0;
inline constexpr uint64_t kGuestMemfdFlagInitShared = 1ull << 1;

struct TdxCmd {
  uint32_t id;
  uint32_t flags;
  uint64_t data;      // immediate or user pointer
  uint64_t hw_error;  // out: SEAMCALL status; must be 0 on input
};
static_assert(sizeof(TdxCmd) == 24);
static_assert(offsetof(TdxCmd, data) == 8 && offsetof(TdxCmd, hw_error) == 16);

struct CpuidEntry2 {
  uint32_t function, index, flags, eax, ebx, ecx, edx, padding[3];
};
static_assert(sizeof(CpuidEntry2) == 40);
static_assert(sizeof(CpuidEntry2) == sizeof(kvm_cpuid_entry2));

struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;  // must be 0
};
static_assert(sizeof(Cpuid2Header) == 8);

struct TdxCapabilitiesHeader {
  uint64_t supported_attrs;
  uint64_t supported_xfam;
  uint64_t kernel_tdvmcallinfo_1_r11;
  uint64_t user_tdvmcallinfo_1_r11;
  uint64_t kernel_tdvmcallinfo_1_r12;
  uint64_t user_tdvmcallinfo_1_r12;
  uint64_t reserved[250];
  Cpuid2Header cpuid;  // entries follow
};
static_assert(offsetof(TdxCapabilitiesHeader, kernel_tdvmcallinfo_1_r11) == 16);
static_assert(offsetof(TdxCapabilitiesHeader, user_tdvmcallinfo_1_r12) == 40);
static_assert(offsetof(TdxCapabilitiesHeader, reserved) == 48);
static_assert(offsetof(TdxCapabilitiesHeader, cpuid) == 2048);
static_assert(sizeof(TdxCapabilitiesHeader) == 2056);

struct TdxInitVmHeader {
  uint64_t attributes;
  uint64_t xfam;
  uint64_t mrconfigid[6];
  uint64_t mrowner[6];
  uint64_t mrownerconfig[6];
  uint64_t reserved[12];  // must be 0
  Cpuid2Header cpuid;     // entries follow
};
static_assert(offsetof(TdxInitVmHeader, mrconfigid) == 16);
static_assert(offsetof(TdxInitVmHeader, mrowner) == 64);
static_assert(offsetof(TdxInitVmHeader, mrownerconfig) == 112);
static_assert(offsetof(TdxInitVmHeader, reserved) == 160);
static_assert(offsetof(TdxInitVmHeader, cpuid) == 256);
static_assert(sizeof(TdxInitVmHeader) == 264);

struct TdxInitMemRegion {
  uint64_t source_addr;
  uint64_t gpa;
  uint64_t nr_pages;
};
static_assert(sizeof(TdxInitMemRegion) == 24);

struct CreateGuestMemfd {
  uint64_t size;
  uint64_t flags;
  uint64_t reserved[6];
};
static_assert(sizeof(CreateGuestMemfd) == 64);

struct UserspaceMemoryRegion2 {
  uint32_t slot;
  uint32_t flags;
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t guest_memfd_offset;
  uint32_t guest_memfd;
  uint32_t pad1;
  uint64_t pad2[14];
};
static_assert(offsetof(UserspaceMemoryRegion2, guest_phys_addr) == 8);
static_assert(offsetof(UserspaceMemoryRegion2, userspace_addr) == 24);
static_assert(offsetof(UserspaceMemoryRegion2, guest_memfd_offset) == 32);
static_assert(offsetof(UserspaceMemoryRegion2, guest_memfd) == 40);
static_assert(offsetof(UserspaceMemoryRegion2, pad2) == 48);
static_assert(sizeof(UserspaceMemoryRegion2) == 160);

struct MemoryAttributes {
  uint64_t address;
  uint64_t size;
  uint64_t attributes;
  uint64_t flags;  // must be 0
};
static_assert(sizeof(MemoryAttributes) == 32);

// run->memory_fault (KVM_EXIT_MEMORY_FAULT), an overlay of kvm_run's exit union.
struct MemoryFault {
  uint64_t flags;
  uint64_t gpa;
  uint64_t size;
};
static_assert(offsetof(kvm_run, mmio) == 32, "kvm_run exit union must start at 32");
inline MemoryFault memory_fault(const kvm_run& run) {
  MemoryFault mf;
  std::memcpy(&mf, &run.mmio, sizeof mf);  // &run.mmio is the start of the union
  return mf;
}

// run->tdx (KVM_EXIT_TDX), an overlay of kvm_run's exit union, following the KVM TDX series
// as merged for Linux 6.16 (include/uapi/linux/kvm.h, with the GetTdVmCallInfo and
// SetupEventNotifyInterrupt exits of its "exit to userspace" follow-ups): flags, the
// TDG.VP.VMCALL sub-function in `nr`, then per sub-function `ret` (the status KVM puts
// in R10 on the next KVM_RUN; KVM presets SUBFUNC_UNSUPPORTED, or SUCCESS for
// GetTdVmCallInfo) and its operands:
//   GetQuote:                  a[0] = GPA (shared bit stripped), a[1] = size
//   GetTdVmCallInfo:           a[0] = leaf, a[1..4] = R11..R14 written back by userspace
//   SetupEventNotifyInterrupt: a[0] = vector
struct TdxExit {
  uint64_t flags;  // 0; no flags are defined
  uint64_t nr;
  uint64_t ret;
  uint64_t a[5];
};
static_assert(sizeof(TdxExit) == 64);
static_assert(offsetof(TdxExit, nr) == 8 && offsetof(TdxExit, ret) == 16 && offsetof(TdxExit, a) == 24);
static_assert(sizeof(TdxExit) <= sizeof(kvm_run::padding), "must fit kvm_run's exit union");
inline TdxExit tdx_exit(const kvm_run& run) {
  TdxExit t;
  std::memcpy(&t, &run.mmio, sizeof t);
  return t;
}
inline void set_tdx_exit(kvm_run& run, const TdxExit& t) { std::memcpy(&run.mmio, &t, sizeof t); }

// ioctl numbers.
inline constexpr unsigned long kKvmMemoryEncryptOp = _IOWR(KVMIO, 0xba, unsigned long);
inline constexpr unsigned long kKvmCreateGuestMemfd = _IOWR(KVMIO, 0xd4, CreateGuestMemfd);
inline constexpr unsigned long kKvmSetUserMemoryRegion2 = _IOW(KVMIO, 0x49, UserspaceMemoryRegion2);
inline constexpr unsigned long kKvmSetMemoryAttributes = _IOW(KVMIO, 0xd2, MemoryAttributes);
static_assert(kKvmMemoryEncryptOp == 0xC008AEBAul);
static_assert(kKvmCreateGuestMemfd == 0xC040AED4ul);
static_assert(kKvmSetUserMemoryRegion2 == 0x40A0AE49ul);
static_assert(kKvmSetMemoryAttributes == 0x4020AED2ul);

// The CPUID ioctls, numbered from the 8-byte header the kernel's struct kvm_cpuid2 is. Not
// <linux/kvm.h>'s macros: Debian's 6.1 headers declare the entries with
// __DECLARE_FLEX_ARRAY, whose empty-struct member makes sizeof(kvm_cpuid2) 12 in C++ (8
// in C), so KVM_SET_CPUID2 and friends expand to numbers the kernel does not know.
inline constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long kKvmGetCpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
static_assert(kKvmGetSupportedCpuid == 0xC008AE05ul);
static_assert(kKvmSetCpuid2 == 0x4008AE90ul);
static_assert(kKvmGetCpuid2 == 0xC008AE91ul);
// KVM_GET/SET_MSRS have the same trap: struct kvm_msrs is 8 bytes to the kernel, 16 in
// C++ with Debian's 6.1 headers.
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
inline constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
static_assert(kKvmGetMsrs == 0xC008AE88ul);
static_assert(kKvmSetMsrs == 0x4008AE89ul);

// CPUID leaf whose EAX[23:16] selects the TD's GPA width (48 or 52) in KVM_TDX_INIT_VM.
inline constexpr uint32_t kCpuidLeafAddressSizes = 0x80000008;

}  // namespace tdsim::kvm::tdx
