// A KVM VM and its vCPUs as owned objects: create, add memslots, create vCPUs with
// their kvm_run mapping. Shared by the plain ("kvm") and the TDX ("kvm-tdx") backends;
// knows no TD layout and no events.
#pragma once
#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "kvm_sys.h"

namespace tdsim::kvm {

class KvmVcpu {
 public:
  KvmVcpu(int vm_fd, uint32_t id, size_t run_size);
  int fd() const { return fd_.get(); }
  uint32_t id() const { return id_; }
  kvm_run* run() const { return static_cast<kvm_run*>(run_map_.get()); }
  // Bytes mapped at run(): KVM_GET_VCPU_MMAP_SIZE (kvm_run, then the port I/O data page).
  size_t run_size() const { return run_map_.size(); }

 private:
  Fd fd_;
  Mapping run_map_;
  uint32_t id_;
};

class KvmVm {
 public:
  // KVM_CREATE_VM(type) on a freshly opened /dev/kvm.
  explicit KvmVm(unsigned long type);
  int kvm_fd() const { return kvm_.get(); }
  int fd() const { return vm_.get(); }

  // KVM_CHECK_EXTENSION on the VM fd (falls back to /dev/kvm semantics in old kernels).
  int check_extension(long cap) const;
  // KVM_SET_USER_MEMORY_REGION for one slot.
  void set_user_memory_region(uint32_t slot, uint64_t gpa, uint64_t size, void* host,
                              uint32_t flags = 0);
  // KVM_CREATE_VCPU(id) and mmap of its kvm_run; vCPUs live as long as the VM.
  KvmVcpu& create_vcpu(uint32_t id);
  std::vector<std::unique_ptr<KvmVcpu>>& vcpus() { return vcpus_; }

 private:
  // Declaration order is destruction order reversed: vCPUs go before the VM fd.
  Fd kvm_;
  Fd vm_;
  size_t run_size_ = 0;
  std::vector<std::unique_ptr<KvmVcpu>> vcpus_;
};

}  // namespace tdsim::kvm
