#include "probe.h"

#include <cpuid.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "kvm_sys.h"
#include "kvm_vm.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

uint32_t host_maxphyaddr() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000008) return 36;
  __cpuid(0x80000008, a, b, c, d);
  return a & 0xff;
}

std::string read_first_line(const char* path) {
  std::ifstream f(path);
  std::string line;
  if (f) std::getline(f, line);
  return line;
}

std::string mask_text(const HostProbe& p) {
  std::string names;
  for (const auto& n : p.vm_types) names += (names.empty() ? "" : ", ") + n;
  return fmt::format("0x{:x} ({})", p.vm_types_mask, names.empty() ? "none" : names);
}

std::string tdx_reason(const HostProbe& p) {
  if (!p.dev_kvm_present) return "/dev/kvm does not exist (KVM not loaded or no VT-x)";
  if (!p.dev_kvm_openable) return p.open_error + " (needs read-write access to /dev/kvm)";
  if (!p.vm_types_cap)
    return "KVM_CAP_VM_TYPES (235) is not supported: kernel predates KVM TDX (needs 6.16+)";
  if (!p.tdx_vm_type) {
    std::string r = fmt::format(
        "KVM_CAP_VM_TYPES mask {} lacks bit 5 (KVM_X86_TDX_VM): this host's KVM cannot "
        "create TDs",
        mask_text(p));
    if (!p.kvm_intel_tdx_param.empty())
      r += fmt::format(" (kvm_intel.tdx={})", p.kvm_intel_tdx_param);
    return r;
  }
  if (!p.guest_memfd) return "KVM_CAP_GUEST_MEMFD (234) is not supported";
  if (!p.memory_attributes) return "KVM_CAP_MEMORY_ATTRIBUTES (233) is not supported";
  return "";
}

}  // namespace

std::string vm_type_name(unsigned type) {
  switch (type) {
    case 0: return "KVM_X86_DEFAULT_VM";
    case 1: return "KVM_X86_SW_PROTECTED_VM";
    case 2: return "KVM_X86_SEV_VM";
    case 3: return "KVM_X86_SEV_ES_VM";
    case 4: return "KVM_X86_SNP_VM";
    case 5: return "KVM_X86_TDX_VM";
  }
  return fmt::format("type {}", type);
}

const BackendAvailability* HostProbe::backend(std::string_view name) const {
  for (const auto& b : backends)
    if (b.name == name) return &b;
  return nullptr;
}

HostProbe probe_host() {
  HostProbe p;
  p.host_maxphyaddr = host_maxphyaddr();
  p.kvm_intel_tdx_param = read_first_line("/sys/module/kvm_intel/parameters/tdx");
  p.dev_kvm_present = ::access("/dev/kvm", F_OK) == 0;
  if (p.dev_kvm_present) {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      p.open_error = std::string("open /dev/kvm: ") + std::strerror(errno);
    } else {
      Fd kvm(fd);
      p.dev_kvm_openable = true;
      p.api_version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
      int types = ::ioctl(fd, KVM_CHECK_EXTENSION, tdx::kCapVmTypes);
      p.vm_types_cap = types > 0;
      p.vm_types_mask = types > 0 ? static_cast<uint64_t>(types) : 0;
      for (unsigned t = 0; t < 32; ++t)
        if (p.vm_types_mask & (1ull << t)) p.vm_types.push_back(vm_type_name(t));
      p.tdx_vm_type = (p.vm_types_mask >> tdx::kX86TdxVm) & 1;
      // The memory caps are per VM type; asked on /dev/kvm they describe the default
      // type, which is what the kernel answers when no TDX VM can be created anyway.
      p.guest_memfd = ::ioctl(fd, KVM_CHECK_EXTENSION, tdx::kCapGuestMemfd) > 0;
      int attrs = ::ioctl(fd, KVM_CHECK_EXTENSION, tdx::kCapMemoryAttributes);
      p.memory_attributes = attrs > 0 && (attrs & tdx::kMemoryAttributePrivate);
      if (p.tdx_vm_type) {
        try {
          KvmVm vm(tdx::kX86TdxVm);
          p.guest_memfd = vm.check_extension(tdx::kCapGuestMemfd) > 0;
          p.memory_attributes =
              vm.check_extension(tdx::kCapMemoryAttributes) & tdx::kMemoryAttributePrivate;
        } catch (const BackendError&) {
          // KVM_CREATE_VM(5) failing is reported when the backend runs; keep the caps.
        }
      }
    }
    try {
      KvmVm vm(tdx::kX86DefaultVm);
      vm.create_vcpu(0);
      p.plain_kvm_usable = true;
    } catch (const BackendError& e) {
      p.plain_kvm_error = e.what();
    }
  }
  BackendAvailability kvm{"kvm", p.plain_kvm_usable, ""};
  if (!p.dev_kvm_present)
    kvm.reason = "/dev/kvm does not exist (KVM not loaded or no VT-x/AMD-V)";
  else if (!p.dev_kvm_openable)
    kvm.reason = p.open_error + " (needs read-write access to /dev/kvm)";
  else if (!p.plain_kvm_usable)
    kvm.reason = "cannot create a VM with a vCPU: " + p.plain_kvm_error;
  std::string why = tdx_reason(p);
  p.backends.push_back(kvm);
  p.backends.push_back(BackendAvailability{"kvm-tdx", why.empty(), why});
  p.kvm_usable = p.backends[0].can_run;
  p.tdx_usable = p.backends[1].can_run;
  return p;
}

std::string describe(const HostProbe& p) {
  std::string s;
  s += fmt::format("/dev/kvm:            {}\n",
                   !p.dev_kvm_present ? "missing"
                   : p.dev_kvm_openable ? "present, read-write"
                                        : "present, " + p.open_error);
  if (p.dev_kvm_openable) {
    s += fmt::format("KVM API version:     {}\n", p.api_version);
    s += fmt::format("VM types:            {}\n",
                     p.vm_types_cap ? mask_text(p) : "KVM_CAP_VM_TYPES not supported");
    s += fmt::format("TDX VM type (bit 5): {}\n", p.tdx_vm_type ? "yes" : "no");
    s += fmt::format("guest_memfd:         {}\n", p.guest_memfd ? "yes" : "no");
    s += fmt::format("memory attributes:   {}\n", p.memory_attributes ? "PRIVATE" : "no");
  }
  if (!p.kvm_intel_tdx_param.empty())
    s += fmt::format("kvm_intel.tdx:       {}\n", p.kvm_intel_tdx_param);
  s += fmt::format("plain KVM VM+vCPU:   {}\n",
                   p.plain_kvm_usable ? "ok" : (p.plain_kvm_error.empty() ? "no" : p.plain_kvm_error));
  s += fmt::format("host MAXPHYADDR:     {}\n", p.host_maxphyaddr);
  for (const auto& b : p.backends)
    s += fmt::format("backend {:<8} {}\n", b.name + ":", b.can_run ? "can run" : "cannot run: " + b.reason);
  return s;
}

}  // namespace tdsim::kvm
