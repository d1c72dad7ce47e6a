// Executes a TdxPlan with real ioctls: creates the TD, its vCPUs and memory, adds and
// measures the private pages, finalizes. Everything it creates is owned here and
// released on every path. Knows no events; the TDX backend runs the vCPUs afterwards.
#pragma once
#include <memory>
#include <vector>

#include "core/guest_memory.h"
#include "core/td_image.h"
#include "kvm_vm.h"
#include "tdx_plan.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

// The bytes of KVM_TDX_INIT_VM's struct kvm_tdx_init_vm for `p` on a host whose KVM
// supports `supported` and whose TDX module lets the VMM configure `configurable`: the
// header (attributes, MRCONFIGID, MROWNER, MROWNERCONFIG) and the CPUID list
// (build_init_vm_cpuid limited to p.cpuid). Pure.
std::vector<uint8_t> init_vm_bytes(const InitVmPayload& p, const std::vector<tdx::CpuidEntry2>& supported,
                                   const std::vector<tdx::CpuidEntry2>& configurable);

class TdxLaunch {
 public:
  // `mem` holds the region contents (INIT_MEM_REGION sources, shared memory) and must
  // outlive this object. Runs every step of `plan` up to, not including, KVM_RUN.
  TdxLaunch(const TdImage& image, GuestMemory& mem, const TdxPlan& plan);
  ~TdxLaunch();
  std::vector<KvmVcpu*> vcpus() const;

 private:
  void execute(const TdxStep& step);
  KvmVcpu& vcpu(uint32_t i) const;
  void tdx_cmd(int fd, uint32_t id, uint32_t flags, uint64_t data, const char* name);
  void read_capabilities();
  void init_vm(const TdxStep& step);

  const TdImage& image_;
  GuestMemory& mem_;
  std::vector<Fd> memfds_;  // per region; empty Fd for shared ones (outlive the VM)
  std::unique_ptr<KvmVm> vm_;
  std::vector<tdx::CpuidEntry2> configurable_;     // from KVM_TDX_CAPABILITIES
  std::vector<std::vector<uint8_t>> vcpu_cpuid_;   // KVM_TDX_GET_CPUID result per vCPU
};

}  // namespace tdsim::kvm
