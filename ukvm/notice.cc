#include "notice.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/text_escape.h"
#include "kvm/tdx_uapi.h"

namespace tdsim::ukvm {

namespace {

struct Name {
  unsigned long request;
  const char* name;
};

namespace t = kvm::tdx;

// Requests whose argument struct ends in a flexible array are numbered here from the
// size the kernel (and a C program) gives the struct: <linux/kvm.h>'s macros number them
// from the larger size C++ gives it (kvm/tdx_uapi.h says why).
struct Xsave {
  uint32_t region[1024];
};

constexpr Name kNames[] = {
    {KVM_GET_API_VERSION, "KVM_GET_API_VERSION"},
    {KVM_CREATE_VM, "KVM_CREATE_VM"},
    {_IOWR(KVMIO, 0x02, uint32_t), "KVM_GET_MSR_INDEX_LIST"},
    {_IOWR(KVMIO, 0x0a, uint32_t), "KVM_GET_MSR_FEATURE_INDEX_LIST"},
    {KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION"},
    {KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE"},
    {t::kKvmGetSupportedCpuid, "KVM_GET_SUPPORTED_CPUID"},
    {_IOWR(KVMIO, 0x09, t::Cpuid2Header), "KVM_GET_EMULATED_CPUID"},
    {KVM_CREATE_VCPU, "KVM_CREATE_VCPU"},
    {KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION"},
    {t::kKvmSetUserMemoryRegion2, "KVM_SET_USER_MEMORY_REGION2"},
    {KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR"},
    {KVM_SET_IDENTITY_MAP_ADDR, "KVM_SET_IDENTITY_MAP_ADDR"},
    {KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP"},
    {KVM_IRQ_LINE, "KVM_IRQ_LINE"},
    {KVM_IRQ_LINE_STATUS, "KVM_IRQ_LINE_STATUS"},
    {KVM_ENABLE_CAP, "KVM_ENABLE_CAP"},
    {KVM_GET_TSC_KHZ, "KVM_GET_TSC_KHZ"},
    {KVM_SET_TSC_KHZ, "KVM_SET_TSC_KHZ"},
    {KVM_GET_STATS_FD, "KVM_GET_STATS_FD"},
    {t::kKvmMemoryEncryptOp, "KVM_MEMORY_ENCRYPT_OP"},
    {t::kKvmCreateGuestMemfd, "KVM_CREATE_GUEST_MEMFD"},
    {t::kKvmSetMemoryAttributes, "KVM_SET_MEMORY_ATTRIBUTES"},
    {KVM_RUN, "KVM_RUN"},
    {KVM_GET_REGS, "KVM_GET_REGS"},
    {KVM_SET_REGS, "KVM_SET_REGS"},
    {KVM_GET_SREGS, "KVM_GET_SREGS"},
    {KVM_SET_SREGS, "KVM_SET_SREGS"},
    {KVM_GET_FPU, "KVM_GET_FPU"},
    {KVM_SET_FPU, "KVM_SET_FPU"},
    {t::kKvmGetMsrs, "KVM_GET_MSRS"},
    {t::kKvmSetMsrs, "KVM_SET_MSRS"},
    {t::kKvmSetCpuid2, "KVM_SET_CPUID2"},
    {t::kKvmGetCpuid2, "KVM_GET_CPUID2"},
    {KVM_GET_MP_STATE, "KVM_GET_MP_STATE"},
    {KVM_SET_MP_STATE, "KVM_SET_MP_STATE"},
    {KVM_SET_GUEST_DEBUG, "KVM_SET_GUEST_DEBUG"},
    {_IOW(KVMIO, 0x8b, uint32_t), "KVM_SET_SIGNAL_MASK"},
    {KVM_GET_LAPIC, "KVM_GET_LAPIC"},
    {KVM_SET_LAPIC, "KVM_SET_LAPIC"},
    {_IOR(KVMIO, 0xa4, Xsave), "KVM_GET_XSAVE"},
    {_IOW(KVMIO, 0xa5, Xsave), "KVM_SET_XSAVE"},
    {KVM_GET_XCRS, "KVM_GET_XCRS"},
    {KVM_SET_XCRS, "KVM_SET_XCRS"},
    {KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS"},
    {KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS"},
    {KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS"},
    {KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS"},
    {KVM_TRANSLATE, "KVM_TRANSLATE"},
    {KVM_IOEVENTFD, "KVM_IOEVENTFD"},
    {KVM_IRQFD, "KVM_IRQFD"},
    {_IOW(KVMIO, 0x6a, uint64_t), "KVM_SET_GSI_ROUTING"},
    {KVM_GET_DIRTY_LOG, "KVM_GET_DIRTY_LOG"},
    {KVM_GET_CLOCK, "KVM_GET_CLOCK"},
    {KVM_SET_CLOCK, "KVM_SET_CLOCK"},
    {KVM_SIGNAL_MSI, "KVM_SIGNAL_MSI"},
};

std::atomic<bool> g_silent{false};

}  // namespace

void silence_notices(bool silent) { g_silent.store(silent, std::memory_order_relaxed); }

void notice(const std::string& text) {
  if (g_silent.load(std::memory_order_relaxed)) return;
  const std::string line = "tdsim-kvm: " + text + "\n";
  // One write per line; a short write to stderr is not retried (nothing to recover).
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

std::string ioctl_name(unsigned long request) {
  for (const Name& n : kNames)
    if (n.request == request) return n.name;
  return fmt::format("ioctl {:#x}", request);
}

long unimplemented(const char* fd_kind, unsigned long request, int err) {
  notice(fmt::format("{} ({:#x}) on a {} fd is not implemented: {}", ioctl_name(request), request, fd_kind,
                     escape_text(std::strerror(err))));
  return -err;
}

}  // namespace tdsim::ukvm
