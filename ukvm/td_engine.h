// The TD a KVM TDX program builds through /dev/kvm, run on the Unicorn mechanism: what
// KVM_RUN does inside the user-space KVM (docs/userspace-kvm.md). The ioctl surface
// (ukvm/ files around it) collects the TD's configuration, memory and launch pages, then
// creates one TdEngine at KVM_TDX_FINALIZE_VM and asks it to run a vCPU until KVM would
// return to userspace. The engine knows nothing of file descriptors or struct kvm_run:
// exits come out as the platform's UserspaceExit (tdx/vmm.h) and the program's answer
// goes back in as a VmmCompletion, the same two types the kvm-tdx backend translates
// to and from kvm_run (kvm/tdx_exits.h).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/launch_order.h"
#include "tdx/host_hooks.h"
#include "tdx/vmm.h"

namespace tdsim::gdbstub {
class FollowingRunControl;
}

namespace tdsim::ukvm {

// One piece of the TD's guest-physical memory where the program (or the user-space KVM
// on its behalf) keeps the bytes. Nothing is copied: the engine maps `host` directly, so
// a write by either side is seen by the other.
struct GuestRange {
  uint64_t gpa = 0;   // untagged, 4 KiB aligned
  uint64_t size = 0;  // multiple of 4 KiB
  uint8_t* host = nullptr;
  // Shared memory (the memslot's userspace_addr), reached by the guest with the shared
  // bit set; otherwise private memory (the guest_memfd's pages).
  bool shared = false;
};

// What the TD was built with, by the time of KVM_TDX_FINALIZE_VM.
struct TdSetup {
  uint32_t gpaw = 48;          // 48 or 52 (from KVM_TDX_INIT_VM's CPUID 0x80000008)
  uint32_t nr_vcpus = 1;       // vCPUs created (KVM_CREATE_VCPU), indices 0..n-1
  tdx::TdxConfig config;       // attributes, XFAM, max_vcpus, CPUID, MapGPA exits enabled
  std::vector<GuestRange> memory;
  // Every KVM_TDX_INIT_MEM_REGION page in the order the program added it, with its
  // MEASURE flag: the TDX module's build is replayed from these (MRTD identical).
  std::vector<PageAdd> pages;  // PageAdd::region is unused (nullptr)
  // Per vCPU index: KVM_TDX_INIT_VCPU's data, the vCPU's RCX and R8 at reset (as the
  // TDX module's TDH.VP.INIT gives it); a vCPU without an entry starts with 0.
  std::vector<uint64_t> init_rcx;
  // Guest instructions each vCPU may run in all (tdsim exec --max-insns); past it run()
  // returns BudgetExceeded.
  uint64_t max_insns = UINT64_MAX;
  // Trace lines (tdsim exec --trace): instructions, boot steps, TDCALLs, each line to
  // `sink` (required when any kind is on).
  struct Trace {
    bool insn = false, boot = false, tdcall = false;
    std::function<void(const std::string&)> sink;
  } trace;
  // Every event the vCPUs produce as they run (tdsim exec --format json); may be empty.
  // Called on the thread running the vCPU, one engine at a time.
  std::function<void(const Event&)> events;
};

// A triple fault or an exception the TD cannot take: KVM_EXIT_SHUTDOWN.
struct Shutdown {
  std::string reason;                    // one line
  std::vector<std::string> explanation;  // the fault explanation (diag/), possibly empty
};
// kick() or the run's budget ended KVM_RUN before any exit: -EINTR.
struct Interrupted {};
// TDG.VP.VMCALL<HLT> (or a HLT that stands) with nothing to wake the vCPU (no interrupt
// source is modelled): the vCPU is halted; a next run() carries on after the HLT.
struct Halted {};
// TdSetup::max_insns ran out: no KVM exit matches; the user-space KVM reports it itself.
struct BudgetExceeded {
  uint64_t executed = 0;
  std::vector<std::string> position;  // where the vCPU is (RIP, instruction)
};

using RunExit = std::variant<tdx::UserspaceExit, Shutdown, Interrupted, Halted, BudgetExceeded>;

class TdEngine {
 public:
  // Builds the TD (the module's build over `setup.pages`) and its vCPUs in the TD
  // initial state at the reset vector. Throws std::runtime_error naming what is wrong.
  static std::unique_ptr<TdEngine> create(TdSetup setup);
  virtual ~TdEngine() = default;

  // Runs vCPU `index` until KVM would return to userspace. `answer` is the program's
  // completion of the previous UserspaceExit of this vCPU, read back from kvm_run
  // (nullptr when the previous exit was not a UserspaceExit or on the first run).
  virtual RunExit run(uint32_t index, const tdx::VmmCompletion* answer) = 0;
  // Makes a run() in progress on another thread return Interrupted soon. Thread-safe.
  virtual void kick(uint32_t index) = 0;
  // Memory the program added after finalization (a shared memslot).
  virtual void add_memory(const GuestRange& range) = 0;
  // [range.gpa, +size) now lives at range.host: what a private/shared conversion
  // (KVM_SET_MEMORY_ATTRIBUTES after a MapGPA exit) does to the memory the guest reaches
  // there. Parts of the range no memory backed before become backed. Throws
  // std::runtime_error for a range that is not page aligned or has no host memory.
  virtual void set_memory(const GuestRange& range) = 0;
  // MRTD as TDG.MR.REPORT reports it (48 bytes).
  virtual std::vector<uint8_t> mrtd() const = 0;
  // A debugger (tdsim exec --gdb): from now on every vCPU runs only in the turns this run
  // control grants (gdbstub/following_run_control.h), still inside run() on the caller's
  // thread; it starts with the TD held at the reset vector. Made once, over the engine's
  // own debug target, and owned by the engine; nullptr where the engine has none. Call
  // before the first run().
  virtual gdbstub::FollowingRunControl* follow_debugger() = 0;
};

}  // namespace tdsim::ukvm
