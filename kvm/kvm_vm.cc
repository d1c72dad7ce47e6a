#include "kvm_vm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstdio>
#include <string>

namespace tdsim::kvm {

namespace {
std::string to_hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

KvmVcpu::KvmVcpu(int vm_fd, uint32_t id, size_t run_size)
    : fd_(checked_ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id),
                        "KVM_CREATE_VCPU")),
      id_(id) {
  void* p = ::mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (p == MAP_FAILED) throw_errno("mmap of kvm_run for vCPU " + std::to_string(id));
  run_map_ = Mapping(p, run_size);
}

KvmVm::KvmVm(unsigned long type) : kvm_(open_dev_kvm()) {
  int api = checked_ioctl(kvm_.get(), KVM_GET_API_VERSION, 0ul, "KVM_GET_API_VERSION");
  if (api != KVM_API_VERSION)
    throw BackendError("KVM_GET_API_VERSION: " + std::to_string(api) + ", expected " +
                       std::to_string(KVM_API_VERSION));
  vm_ = Fd(checked_ioctl(kvm_.get(), KVM_CREATE_VM, type, "KVM_CREATE_VM"));
  run_size_ = static_cast<size_t>(
      checked_ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0ul, "KVM_GET_VCPU_MMAP_SIZE"));
}

int KvmVm::check_extension(long cap) const {
  int r = ::ioctl(vm_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

void KvmVm::set_user_memory_region(uint32_t slot, uint64_t gpa, uint64_t size, void* host,
                                   uint32_t flags) {
  kvm_userspace_memory_region r{};
  r.slot = slot;
  r.flags = flags;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = reinterpret_cast<uint64_t>(host);
  checked_ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &r,
                "KVM_SET_USER_MEMORY_REGION(slot " + std::to_string(slot) + ", gpa 0x" +
                    to_hex(gpa) + ", size 0x" + to_hex(size) + ")");
}

KvmVcpu& KvmVm::create_vcpu(uint32_t id) {
  vcpus_.push_back(std::make_unique<KvmVcpu>(vm_.get(), id, run_size_));
  return *vcpus_.back();
}

}  // namespace tdsim::kvm
