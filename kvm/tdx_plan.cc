#include "tdx_plan.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>

#include "core/launch_order.h"
#include "tdx/td_cpuid.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

constexpr uint64_t kPage = 4096;
// KVM_CAP_SPLIT_IRQCHIP's argument: IOAPIC routes reserved in userspace (QEMU's 24).
constexpr uint64_t kSplitIrqchipPins = 24;

TdxStep step(TdxIoctl k, TdxScope scope, TdxPayload p, unsigned long req, std::string desc,
             uint32_t cmd = ~0u) {
  return TdxStep{k, scope, std::move(p), req, cmd, std::move(desc)};
}

TdxScope vm() { return {TdxScope::kVm, 0}; }
TdxScope vcpu(uint32_t i) { return {TdxScope::kVcpu, i}; }

}  // namespace

const char* to_string(TdxIoctl k) {
  switch (k) {
    case TdxIoctl::kCheckVmTypes: return "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES)";
    case TdxIoctl::kCreateVm: return "KVM_CREATE_VM";
    case TdxIoctl::kTdxCapabilities: return "KVM_TDX_CAPABILITIES";
    case TdxIoctl::kEnableSplitIrqchip: return "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)";
    case TdxIoctl::kEnableExitHypercall: return "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)";
    case TdxIoctl::kEnableMaxVcpus: return "KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS)";
    case TdxIoctl::kTdxInitVm: return "KVM_TDX_INIT_VM";
    case TdxIoctl::kCreateVcpu: return "KVM_CREATE_VCPU";
    case TdxIoctl::kTdxGetCpuid: return "KVM_TDX_GET_CPUID";
    case TdxIoctl::kSetCpuid2: return "KVM_SET_CPUID2";
    case TdxIoctl::kTdxInitVcpu: return "KVM_TDX_INIT_VCPU";
    case TdxIoctl::kCreateGuestMemfd: return "KVM_CREATE_GUEST_MEMFD";
    case TdxIoctl::kSetUserMemoryRegion2: return "KVM_SET_USER_MEMORY_REGION2";
    case TdxIoctl::kSetMemoryAttributes: return "KVM_SET_MEMORY_ATTRIBUTES";
    case TdxIoctl::kTdxInitMemRegion: return "KVM_TDX_INIT_MEM_REGION";
    case TdxIoctl::kTdxFinalizeVm: return "KVM_TDX_FINALIZE_VM";
    case TdxIoctl::kRun: return "KVM_RUN";
  }
  return "?";
}

std::string TdxPlan::to_text() const {
  std::string s;
  for (size_t i = 0; i < steps.size(); ++i) {
    const TdxStep& st = steps[i];
    std::string where = st.scope.kind == TdxScope::kSystem ? "system"
                        : st.scope.kind == TdxScope::kVm   ? "vm"
                                                           : fmt::format("vcpu {}", st.scope.vcpu);
    s += fmt::format("{:3}. [{}] {}: {}\n", i + 1, where, to_string(st.ioctl), st.description);
  }
  return s;
}

TdxPlan plan_tdx_launch(const TdImage& image, const ::tdsim::tdx::TdxConfig& config) {
  using namespace tdx;
  TdxPlan plan;
  auto& out = plan.steps;
  const auto enc = kKvmMemoryEncryptOp;

  out.push_back(step(TdxIoctl::kCheckVmTypes, {TdxScope::kSystem, 0}, VmTypePayload{kX86TdxVm},
                     KVM_CHECK_EXTENSION, "host must offer VM type 5 (KVM_X86_TDX_VM)"));
  out.push_back(step(TdxIoctl::kCreateVm, {TdxScope::kSystem, 0}, VmTypePayload{kX86TdxVm},
                     KVM_CREATE_VM, "create the TD"));
  out.push_back(step(TdxIoctl::kTdxCapabilities, vm(), NoPayload{}, enc,
                     "read supported attributes, XFAM and configurable CPUID", kTdxCapabilities));
  out.push_back(step(TdxIoctl::kEnableSplitIrqchip, vm(),
                     EnableCapPayload{kCapSplitIrqchip, kSplitIrqchipPins}, KVM_ENABLE_CAP,
                     "TDs need the split IRQ chip before any vCPU exists"));
  out.push_back(step(TdxIoctl::kEnableExitHypercall, vm(),
                     EnableCapPayload{kCapExitHypercall, 1ull << KVM_HC_MAP_GPA_RANGE}, KVM_ENABLE_CAP,
                     "TDG.VP.VMCALL<MapGPA> reaches the VMM (else KVM answers SUBFUNC_UNSUPPORTED)"));
  if (config.max_vcpus)
    out.push_back(step(TdxIoctl::kEnableMaxVcpus, vm(), EnableCapPayload{KVM_CAP_MAX_VCPUS, config.max_vcpus},
                       KVM_ENABLE_CAP,
                       fmt::format("TD_PARAMS.MAX_VCPUS = {}: KVM_TDX_INIT_VM copies the VM's max_vcpus, "
                                   "which only this lowers, before any vCPU exists",
                                   config.max_vcpus)));
  InitVmPayload init{config.attributes, config.xfam, image.gpaw, config.mrconfigid, config.mrowner,
                     config.mrownerconfig,
                     ::tdsim::tdx::td_cpuid_values(
                         ::tdsim::tdx::sapphire_rapids_native(),
                         ::tdsim::tdx::TdCpuidConfig{config.attributes, config.xfam, image.gpaw, config.cpuid_config})};
  out.push_back(step(TdxIoctl::kTdxInitVm, vm(), std::move(init), enc,
                     fmt::format("attributes {:#x}, XFAM {:#x} (CPUID 0xd), CPUID 0x80000008 EAX[23:16] = GPAW {}",
                                 config.attributes, config.xfam, image.gpaw),
                     kTdxInitVm));

  for (uint32_t i = 0; i < image.nr_vcpus; ++i) {
    out.push_back(step(TdxIoctl::kCreateVcpu, vm(), VcpuIdPayload{i}, KVM_CREATE_VCPU,
                       fmt::format("vCPU {} (TDH.VP.INIT order = VCPU_INDEX {})", i, i)));
    out.push_back(step(TdxIoctl::kTdxGetCpuid, vcpu(i), NoPayload{}, enc,
                       "the TD's CPUID as the module virtualizes it", kTdxGetCpuid));
    out.push_back(step(TdxIoctl::kSetCpuid2, vcpu(i), SetCpuid2Payload{config.cpuid}, tdx::kKvmSetCpuid2,
                       "x2APIC must be in guest CPUID before INIT_VCPU; the VMM's leaves answer VMCALL<CPUID>"));
    out.push_back(step(TdxIoctl::kTdxInitVcpu, vcpu(i), InitVcpuPayload{image.init_rcx}, enc,
                       fmt::format("initial RCX = R8 = 0x{:x}", image.init_rcx), kTdxInitVcpu));
  }

  for (size_t r = 0; r < image.regions.size(); ++r) {
    const Region& reg = image.regions[r];
    if (!reg.shared)
      out.push_back(step(TdxIoctl::kCreateGuestMemfd, vm(),
                         GuestMemfdPayload{r, reg.size, 0}, kKvmCreateGuestMemfd,
                         fmt::format("private memory for {} ({:#x} bytes)", reg.name, reg.size)));
    MemRegion2Payload m{static_cast<uint32_t>(r), reg.shared ? 0u : kMemGuestMemfd, reg.gpa,
                        reg.size, r, !reg.shared};
    out.push_back(step(TdxIoctl::kSetUserMemoryRegion2, vm(), m, kKvmSetUserMemoryRegion2,
                       fmt::format("slot {}: {} [{:#x}, {:#x}) {}", r, reg.name, reg.gpa, reg.end(),
                                   reg.shared ? "shared (host memory; guest uses gpa | S-bit)"
                                              : "private (guest_memfd)")));
  }
  for (const Region& reg : image.regions) {
    if (reg.shared) continue;
    out.push_back(step(TdxIoctl::kSetMemoryAttributes, vm(),
                       MemAttributesPayload{reg.gpa, reg.size, kMemoryAttributePrivate},
                       kKvmSetMemoryAttributes,
                       fmt::format("[{:#x}, {:#x}) PRIVATE ({})", reg.gpa, reg.end(), reg.name)));
  }

  // Private pages in core launch order; a run of consecutive pages of one region with the
  // same MEASURE flag is one ioctl (KVM adds them in ascending order, as listed).
  const std::vector<PageAdd> pages = launch_page_order(image);
  for (size_t i = 0; i < pages.size();) {
    size_t j = i + 1;
    while (j < pages.size() && pages[j].region == pages[i].region &&
           pages[j].measured == pages[i].measured && pages[j].gpa == pages[j - 1].gpa + kPage)
      ++j;
    const size_t region = static_cast<size_t>(pages[i].region - image.regions.data());
    const bool measure = pages[i].measured;
    out.push_back(step(TdxIoctl::kTdxInitMemRegion, vcpu(0),
                       InitMemRegionPayload{pages[i].gpa, j - i, measure, region}, enc,
                       fmt::format("{} page(s) at {:#x} from {}{}", j - i, pages[i].gpa,
                                   pages[i].region->name, measure ? ", MEASURE" : ""),
                       kTdxInitMemRegion));
    i = j;
  }
  out.push_back(step(TdxIoctl::kTdxFinalizeVm, vm(), NoPayload{}, enc,
                     "TDH.MR.FINALIZE: MRTD fixed, TD runnable", kTdxFinalizeVm));
  for (uint32_t i = 0; i < image.nr_vcpus; ++i)
    out.push_back(step(TdxIoctl::kRun, vcpu(i), NoPayload{}, KVM_RUN,
                       fmt::format("vCPU {} from 0xfffffff0", i)));
  return plan;
}

}  // namespace tdsim::kvm
