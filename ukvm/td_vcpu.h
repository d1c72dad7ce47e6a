// One TD vCPU as KVM holds it: its kvm_run page (shared with the program's mmap of the
// vCPU fd), INIT_VCPU state, CPUID, and KVM_RUN: the previous exit's completion read
// back from kvm_run, immediate_exit, then the engine run to the next userspace exit.
#pragma once
#include <linux/kvm.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/wake_word.h"
#include "kvm/tdx_uapi.h"
#include "td_engine.h"
#include "tdx/vmm.h"

namespace tdsim::ukvm {

class TdVm;

// A signal handled on a thread while it is inside KVM_RUN ends that KVM_RUN with EINTR,
// as KVM does for a pending signal: the preload's signal-handler wrapper calls this after
// the program's handler. Async-signal-safe (atomic stores and a futex wake); no-op on
// other threads.
void kick_running_vcpu_of_this_thread();

class TdVcpu {
 public:
  // `run` is our MAP_SHARED mapping of the vCPU memfd (kVcpuMmapSize bytes), owned from
  // here on: unmapped with the vCPU.
  TdVcpu(TdVm& vm, uint32_t id, uint32_t index, kvm_run* run) : vm_(vm), id_(id), index_(index), run_(run) {}
  TdVcpu(const TdVcpu&) = delete;
  TdVcpu& operator=(const TdVcpu&) = delete;
  ~TdVcpu();

  // A vCPU-fd ioctl other than KVM_RUN, under kvm_lock(): its result or -errno.
  long ioctl(unsigned long request, unsigned long arg);
  // KVM_RUN; takes kvm_lock() itself, never while the engine runs.
  long run();
  // Ends this vCPU's KVM_RUN in progress with EINTR soon (the signal path). Async-signal-safe.
  void kick() noexcept;

  uint32_t id() const { return id_; }
  uint32_t index() const { return index_; }
  bool initialized() const { return initialized_; }
  uint64_t init_rcx() const { return init_rcx_; }  // KVM_TDX_INIT_VCPU's data
  // KVM_SET_CPUID2's table (empty until the program set one).
  const std::vector<kvm::tdx::CpuidEntry2>& cpuid() const { return cpuid_; }

 private:
  long memory_encrypt_op(unsigned long arg);
  long init_mem_region(const kvm::tdx::TdxCmd& cmd);
  long get_td_cpuid(uint64_t data);
  long set_cpuid2(unsigned long arg);
  long get_cpuid2(unsigned long arg);
  // A halted vCPU's KVM_RUN: blocks until kick(), then EINTR (KVM_EXIT_INTR).
  long wait_while_halted();

  TdVm& vm_;
  const uint32_t id_;     // the program's vCPU id (APIC id)
  const uint32_t index_;  // creation order: the engine's vCPU index
  kvm_run* const run_;
  bool initialized_ = false;
  uint64_t init_rcx_ = 0;
  std::vector<kvm::tdx::CpuidEntry2> cpuid_;

  std::mutex run_mu_;  // one KVM_RUN at a time per vCPU, as KVM's vcpu->mutex
  std::optional<RunExit> last_;            // the exit the program has not answered yet
  std::optional<tdx::VmmCompletion> answer_;  // read back, for the next engine run
  bool dead_ = false;                      // after a shutdown or fatal error
  std::atomic<bool> ran_{false};           // KVM_RUN reached the engine once
  // TDG.VP.VMCALL<HLT>: KVM_MP_STATE_HALTED until KVM_SET_MP_STATE makes it RUNNABLE (no
  // interrupt source is modelled to wake it); each KVM_RUN blocks until a signal.
  std::atomic<bool> halted_{false};
  std::atomic<bool> kicked_{false};              // a signal during this KVM_RUN
  std::atomic<TdEngine*> running_engine_{nullptr};  // inside engine->run(), for kick()
  WakeWord wake_;                                // wait_while_halted() sleeps here
};

}  // namespace tdsim::ukvm
