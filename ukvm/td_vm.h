// One TD as KVM holds it between KVM_CREATE_VM and its end: capabilities enabled,
// memslots and guest_memfd bindings, memory attributes, the TDX build state (INIT_VM,
// INIT_MEM_REGION pages measured live by the TDX module's build, FINALIZE) and, after
// KVM_TDX_FINALIZE_VM, the engine that runs it. VM-fd ioctls are answered here with
// KVM's errno for each rule (docs/userspace-kvm.md). Called under kvm_lock().
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/guest_memory.h"
#include "core/launch_order.h"
#include "core/td_image.h"
#include "kvm/tdx_uapi.h"
#include "kvm_objects.h"
#include "td_engine.h"
#include "tdx/host_hooks.h"
#include "tdx/td_build.h"

namespace tdsim::ukvm {

class TdVm : public std::enable_shared_from_this<TdVm> {
 public:
  enum class State { kCreated, kInitialized, kFinalized };

  // A VM-fd ioctl: its result or -errno.
  long ioctl(unsigned long request, unsigned long arg);

  State state() const { return state_; }
  uint32_t gpaw() const { return gpaw_; }
  tdx::TdBuild* build() { return build_.get(); }
  const std::vector<kvm::tdx::CpuidEntry2>& td_cpuid() const { return td_cpuid_; }
  // The engine, once FINALIZE created it (null before, or without an engine build).
  std::shared_ptr<TdEngine> engine() const { return engine_; }

  // KVM_TDX_INIT_MEM_REGION's per-page work (the vCPU fd issues it): copies the 4 KiB
  // at user address `source` into the private page at `gpa`, adds it (and measures it).
  long add_private_page(uint64_t gpa, uint64_t source, bool measure);

 private:
  struct Memslot {
    uint32_t flags = 0;
    uint64_t gpa = 0, size = 0, uaddr = 0;
    std::shared_ptr<GuestMemfd> gmem;
    uint64_t gmem_offset = 0;
  };

  long check_extension(long cap) const;
  long create_vcpu(unsigned long id);
  long enable_cap(unsigned long arg);
  long create_guest_memfd(unsigned long arg);
  long set_memory_region(unsigned long request, unsigned long arg);
  long set_memslot(uint32_t slot, const Memslot& m);
  long set_memory_attributes(unsigned long arg);
  long memory_encrypt_op(unsigned long arg);
  long tdx_capabilities(uint64_t data);
  long tdx_init_vm(uint64_t data);
  long tdx_finalize();
  long stats_fd();

  bool range_private(uint64_t gpa, uint64_t size) const;
  // The private-memory view the TDX module's build reads: one block per guest_memfd slot.
  void refresh_private_view();
  // The memory the guest reaches in [lo, hi) of memslot `m` now: the guest_memfd's pages
  // where the range is PRIVATE, the program's userspace_addr pages where it is shared
  // (pieces with nothing behind them are left out). The engine maps one per GPA.
  std::vector<GuestRange> pieces_of(const Memslot& m, uint64_t lo, uint64_t hi) const;
  // Tells a running engine what now backs [lo, hi) after an attribute change.
  long remap(uint64_t lo, uint64_t hi);

  State state_ = State::kCreated;
  bool split_irqchip_ = false;
  uint64_t exit_hypercalls_ = 0;
  uint32_t max_vcpus_ = 0;  // 0 = capabilities.h's kMaxVcpus
  uint32_t gpaw_ = 48;
  std::map<uint32_t, Memslot> slots_;
  std::map<uint64_t, uint64_t> private_;  // [start, end) GPA ranges with the PRIVATE attribute
  std::vector<kvm::tdx::CpuidEntry2> td_cpuid_;
  tdx::TdxConfig config_;
  TdImage private_image_;  // one region per guest_memfd memslot, for private_view_
  GuestMemory private_view_{private_image_, {}};
  std::unique_ptr<tdx::TdBuild> build_;
  std::vector<PageAdd> pages_;
  std::vector<std::shared_ptr<TdVcpu>> vcpus_;
  std::shared_ptr<TdEngine> engine_;
};

// KVM_CREATE_VM on /dev/kvm: a new VM fd, or -errno.
long create_vm(unsigned long type);
// A stats fd (KVM_GET_STATS_FD) whose header names `id`.
long new_stats_fd(const std::string& id);

}  // namespace tdsim::ukvm
