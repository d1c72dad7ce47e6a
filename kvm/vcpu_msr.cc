#include "vcpu_msr.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>

#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

struct OneMsr {
  tdx::MsrsHeader header;
  kvm_msr_entry entry;
};
static_assert(offsetof(OneMsr, entry) == 8, "the kernel reads the entries right after nmsrs and pad");

}  // namespace

bool set_vcpu_msr(int vcpu_fd, uint32_t index, uint64_t data) {
  OneMsr m{};
  m.header.nmsrs = 1;
  m.entry.index = index;
  m.entry.data = data;
  return ::ioctl(vcpu_fd, tdx::kKvmSetMsrs, &m) == 1;
}

std::optional<uint64_t> get_vcpu_msr(int vcpu_fd, uint32_t index) {
  OneMsr m{};
  m.header.nmsrs = 1;
  m.entry.index = index;
  if (::ioctl(vcpu_fd, tdx::kKvmGetMsrs, &m) != 1) return std::nullopt;
  return m.entry.data;
}

}  // namespace tdsim::kvm
