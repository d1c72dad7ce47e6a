#include "tdx_launch.h"

#include <fmt/format.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "tdx_cpuid.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

namespace {

// A kvm_cpuid2-shaped buffer: header then `nent` entries, 8-byte aligned.
std::vector<uint8_t> cpuid_buffer(size_t header, uint32_t nent) {
  return std::vector<uint8_t>(header + nent * sizeof(tdx::CpuidEntry2), 0);
}

[[noreturn]] void tdx_error(const char* name, int err, uint64_t hw_error) {
  throw BackendError(fmt::format("{}: {} (hw_error 0x{:x})", name, std::strerror(err), hw_error));
}

std::vector<tdx::CpuidEntry2> entries_of(const uint8_t* p, uint32_t nent) {
  std::vector<tdx::CpuidEntry2> v(nent);
  std::memcpy(v.data(), p, nent * sizeof(tdx::CpuidEntry2));
  return v;
}

}  // namespace

TdxLaunch::TdxLaunch(const TdImage& image, GuestMemory& mem, const TdxPlan& plan)
    : image_(image), mem_(mem), memfds_(image.regions.size()), vcpu_cpuid_(image.nr_vcpus) {
  for (const TdxStep& s : plan.steps)
    if (s.ioctl != TdxIoctl::kRun) execute(s);
}

TdxLaunch::~TdxLaunch() {
  vm_.reset();  // vCPUs and the VM go before the guest_memfd files
}

std::vector<KvmVcpu*> TdxLaunch::vcpus() const {
  std::vector<KvmVcpu*> v;
  for (auto& p : vm_->vcpus()) v.push_back(p.get());
  return v;
}

KvmVcpu& TdxLaunch::vcpu(uint32_t i) const {
  auto& all = vm_->vcpus();
  for (auto& v : all)
    if (v->id() == i) return *v;
  throw BackendError(fmt::format("TDX plan refers to vCPU {} before KVM_CREATE_VCPU", i));
}

void TdxLaunch::tdx_cmd(int fd, uint32_t id, uint32_t flags, uint64_t data, const char* name) {
  tdx::TdxCmd cmd{id, flags, data, 0};
  int r;
  do {
    r = ::ioctl(fd, tdx::kKvmMemoryEncryptOp, &cmd);
  } while (r < 0 && (errno == EINTR || errno == EAGAIN));
  if (r < 0) tdx_error(name, errno, cmd.hw_error);
}

std::vector<uint8_t> init_vm_bytes(const InitVmPayload& p, const std::vector<tdx::CpuidEntry2>& supported,
                                   const std::vector<tdx::CpuidEntry2>& configurable) {
  const auto entries = build_init_vm_cpuid(supported, configurable, p.cpuid, p.gpaw);
  auto buf = cpuid_buffer(sizeof(tdx::TdxInitVmHeader), static_cast<uint32_t>(entries.size()));
  auto* iv = reinterpret_cast<tdx::TdxInitVmHeader*>(buf.data());
  iv->attributes = p.attributes;
  iv->xfam = 0;  // KVM derives XFAM from CPUID leaf 0xD in the list
  std::memcpy(iv->mrconfigid, p.mrconfigid.data(), sizeof iv->mrconfigid);
  std::memcpy(iv->mrowner, p.mrowner.data(), sizeof iv->mrowner);
  std::memcpy(iv->mrownerconfig, p.mrownerconfig.data(), sizeof iv->mrownerconfig);
  iv->cpuid.nent = static_cast<uint32_t>(entries.size());
  if (!entries.empty()) std::memcpy(buf.data() + sizeof *iv, entries.data(), entries.size() * sizeof entries[0]);
  return buf;
}

void TdxLaunch::read_capabilities() {
  for (uint32_t nent = 8;; nent *= 2) {
    auto buf = cpuid_buffer(sizeof(tdx::TdxCapabilitiesHeader), nent);
    auto* caps = reinterpret_cast<tdx::TdxCapabilitiesHeader*>(buf.data());
    caps->cpuid.nent = nent;
    tdx::TdxCmd cmd{tdx::kTdxCapabilities, 0, reinterpret_cast<uint64_t>(buf.data()), 0};
    if (::ioctl(vm_->fd(), tdx::kKvmMemoryEncryptOp, &cmd) == 0) {
      configurable_ = entries_of(buf.data() + sizeof *caps, caps->cpuid.nent);
      return;
    }
    if (errno != E2BIG || nent > 4096) tdx_error("KVM_TDX_CAPABILITIES", errno, cmd.hw_error);
  }
}

void TdxLaunch::init_vm(const TdxStep& step) {
  const auto& p = std::get<InitVmPayload>(step.payload);
  // What KVM can offer a guest on this host (system ioctl on /dev/kvm).
  std::vector<tdx::CpuidEntry2> supported;
  for (uint32_t nent = 64;; nent *= 2) {
    auto buf = cpuid_buffer(sizeof(tdx::Cpuid2Header), nent);
    reinterpret_cast<tdx::Cpuid2Header*>(buf.data())->nent = nent;
    if (::ioctl(vm_->kvm_fd(), tdx::kKvmGetSupportedCpuid, buf.data()) == 0) {
      auto* h = reinterpret_cast<tdx::Cpuid2Header*>(buf.data());
      supported = entries_of(buf.data() + sizeof *h, h->nent);
      break;
    }
    if (errno != E2BIG || nent > 4096) throw_errno("KVM_GET_SUPPORTED_CPUID");
  }
  auto buf = init_vm_bytes(p, supported, configurable_);
  tdx_cmd(vm_->fd(), tdx::kTdxInitVm, 0, reinterpret_cast<uint64_t>(buf.data()),
          "KVM_TDX_INIT_VM");
}

void TdxLaunch::execute(const TdxStep& step) {
  switch (step.ioctl) {
    case TdxIoctl::kCheckVmTypes: {
      Fd kvm = open_dev_kvm();
      int mask = ::ioctl(kvm.get(), KVM_CHECK_EXTENSION, tdx::kCapVmTypes);
      const auto type = std::get<VmTypePayload>(step.payload).type;
      if (mask <= 0 || !((mask >> type) & 1))
        throw BackendError(fmt::format(
            "KVM_CHECK_EXTENSION(KVM_CAP_VM_TYPES) = {}: bit {} (KVM_X86_TDX_VM) missing, this "
            "host's KVM cannot create TDs",
            mask, type));
      break;
    }
    case TdxIoctl::kCreateVm:
      vm_ = std::make_unique<KvmVm>(std::get<VmTypePayload>(step.payload).type);
      break;
    case TdxIoctl::kTdxCapabilities:
      read_capabilities();
      break;
    case TdxIoctl::kEnableSplitIrqchip:
    case TdxIoctl::kEnableExitHypercall:
    case TdxIoctl::kEnableMaxVcpus: {
      const auto& p = std::get<EnableCapPayload>(step.payload);
      kvm_enable_cap cap{};
      cap.cap = static_cast<__u32>(p.cap);
      cap.args[0] = p.arg0;
      checked_ioctl(vm_->fd(), KVM_ENABLE_CAP, &cap, to_string(step.ioctl));
      break;
    }
    case TdxIoctl::kTdxInitVm:
      init_vm(step);
      break;
    case TdxIoctl::kCreateVcpu:
      vm_->create_vcpu(std::get<VcpuIdPayload>(step.payload).id);
      break;
    case TdxIoctl::kTdxGetCpuid: {
      const uint32_t i = step.scope.vcpu;
      for (uint32_t nent = 100;;) {
        auto buf = cpuid_buffer(sizeof(tdx::Cpuid2Header), nent);
        reinterpret_cast<tdx::Cpuid2Header*>(buf.data())->nent = nent;
        tdx::TdxCmd cmd{tdx::kTdxGetCpuid, 0, reinterpret_cast<uint64_t>(buf.data()), 0};
        if (::ioctl(vcpu(i).fd(), tdx::kKvmMemoryEncryptOp, &cmd) == 0) {
          vcpu_cpuid_[i] = std::move(buf);
          break;
        }
        const uint32_t want = reinterpret_cast<tdx::Cpuid2Header*>(buf.data())->nent;
        if (errno != E2BIG || want <= nent) tdx_error("KVM_TDX_GET_CPUID", errno, cmd.hw_error);
        nent = want;
      }
      break;
    }
    case TdxIoctl::kSetCpuid2: {
      const auto& vmm = std::get<SetCpuid2Payload>(step.payload).vmm;
      const std::vector<uint8_t>& got = vcpu_cpuid_[step.scope.vcpu];
      if (!vmm) {
        checked_ioctl(vcpu(step.scope.vcpu).fd(), tdx::kKvmSetCpuid2, got.data(), "KVM_SET_CPUID2");
        break;
      }
      const uint32_t nent = reinterpret_cast<const tdx::Cpuid2Header*>(got.data())->nent;
      const std::vector<tdx::CpuidEntry2> table =
          td_vcpu_cpuid(entries_of(got.data() + sizeof(tdx::Cpuid2Header), nent), *vmm);
      auto buf = cpuid_buffer(sizeof(tdx::Cpuid2Header), static_cast<uint32_t>(table.size()));
      reinterpret_cast<tdx::Cpuid2Header*>(buf.data())->nent = static_cast<uint32_t>(table.size());
      std::memcpy(buf.data() + sizeof(tdx::Cpuid2Header), table.data(), table.size() * sizeof table[0]);
      checked_ioctl(vcpu(step.scope.vcpu).fd(), tdx::kKvmSetCpuid2, buf.data(), "KVM_SET_CPUID2");
      break;
    }
    case TdxIoctl::kTdxInitVcpu:
      tdx_cmd(vcpu(step.scope.vcpu).fd(), tdx::kTdxInitVcpu, 0,
              std::get<InitVcpuPayload>(step.payload).init_rcx, "KVM_TDX_INIT_VCPU");
      break;
    case TdxIoctl::kCreateGuestMemfd: {
      const auto& p = std::get<GuestMemfdPayload>(step.payload);
      tdx::CreateGuestMemfd g{p.size, p.flags, {}};
      memfds_[p.region] = Fd(checked_ioctl(vm_->fd(), tdx::kKvmCreateGuestMemfd, &g,
                                           "KVM_CREATE_GUEST_MEMFD(" + image_.regions[p.region].name + ")"));
      break;
    }
    case TdxIoctl::kSetUserMemoryRegion2: {
      const auto& p = std::get<MemRegion2Payload>(step.payload);
      tdx::UserspaceMemoryRegion2 r{};
      r.slot = p.slot;
      r.flags = p.flags;
      r.guest_phys_addr = p.gpa;
      r.memory_size = p.size;
      r.userspace_addr = reinterpret_cast<uint64_t>(mem_.blocks()[p.region].host);
      r.guest_memfd_offset = 0;
      r.guest_memfd = p.guest_memfd ? static_cast<uint32_t>(memfds_[p.region].get()) : 0;
      checked_ioctl(vm_->fd(), tdx::kKvmSetUserMemoryRegion2, &r,
                    fmt::format("KVM_SET_USER_MEMORY_REGION2(slot {}, gpa 0x{:x}, size 0x{:x})",
                                p.slot, p.gpa, p.size));
      break;
    }
    case TdxIoctl::kSetMemoryAttributes: {
      const auto& p = std::get<MemAttributesPayload>(step.payload);
      tdx::MemoryAttributes a{p.address, p.size, p.attributes, 0};
      checked_ioctl(vm_->fd(), tdx::kKvmSetMemoryAttributes, &a,
                    fmt::format("KVM_SET_MEMORY_ATTRIBUTES(0x{:x}, size 0x{:x})", p.address, p.size));
      break;
    }
    case TdxIoctl::kTdxInitMemRegion: {
      const auto& p = std::get<InitMemRegionPayload>(step.payload);
      const Region& reg = image_.regions[p.region];
      tdx::TdxInitMemRegion m{
          reinterpret_cast<uint64_t>(mem_.blocks()[p.region].host + (p.gpa - reg.gpa)), p.gpa,
          p.nr_pages};
      // KVM updates `m` in place as pages complete, so a retried ioctl resumes correctly.
      tdx_cmd(vcpu(step.scope.vcpu).fd(), tdx::kTdxInitMemRegion,
              p.measure ? tdx::kTdxMeasureMemoryRegion : 0, reinterpret_cast<uint64_t>(&m),
              "KVM_TDX_INIT_MEM_REGION");
      break;
    }
    case TdxIoctl::kTdxFinalizeVm:
      tdx_cmd(vm_->fd(), tdx::kTdxFinalizeVm, 0, 0, "KVM_TDX_FINALIZE_VM");
      break;
    case TdxIoctl::kRun:
      break;  // the backend's vCPU threads
  }
}

}  // namespace tdsim::kvm
