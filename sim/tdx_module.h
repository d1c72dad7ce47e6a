// The simulator's stand-in for the TDX module and the KVM code behind TDG.VP.VMCALL:
// given the registers of one trapped TDCALL, decides the guest-visible result and the
// event it produces. Engine-free (no Unicorn): the vCPU reads and writes the registers.
#pragma once
#include <cstdint>
#include <optional>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "ucall/host/tdvmcall.h"

namespace tdsim::sim {

// KVM_HC_VAPIC_POLL_IRQ: the one KVM hypercall KVM answers without a CPUID feature bit
// or a userspace opt-in; every other number is -KVM_ENOSYS for our guests.
inline constexpr uint64_t kKvmHcVapicPollIrq = 1;
inline constexpr uint64_t kKvmEnosys = static_cast<uint64_t>(-1000);

struct TdcallResult {
  ucall::TdcallRegs regs;      // the guest's registers after the TDCALL
  std::optional<Event> event;  // what the host saw, if anything
  bool stop = false;           // the vCPU does not resume (terminal event or halt)
};

class TdxModule {
 public:
  // `image` and `mem` must outlive this object.
  TdxModule(const TdImage& image, const GuestMemory& mem) : image_(image), mem_(mem) {}

  // Emulates the TDCALL at `rip` (RIP is then advanced by the caller, the call being
  // trap-like). Handled:
  //  - TDG.VP.VMCALL<#VE.RequestMMIO> via ucall::check_vmcall_mmio. Writes become an
  //    MMIO exit decoded by ucall::decode_mmio (a UcallEvent at the ucall GPA, else the
  //    MmioEvent). Reads complete with 0 in R11 and report an MmioEvent: there are no
  //    device models yet (issue 4 adds device callbacks).
  //  - TDG.VP.VMCALL<HLT> (R11 = 12): KVM halts the vCPU; with no interrupt sources
  //    in the simulator it never wakes, so this is a HaltEvent and the vCPU stops.
  //  - R10 != 0: a KVM hypercall (kvm_emulate_hypercall): R10 = result.
  //  - Other sub-functions: R10 = SUBFUNC_UNSUPPORTED. Other leaves (TDG.VP.INFO, ...):
  //    RAX = TDX_OPERAND_INVALID with operand id 0 (RAX) — not implemented yet.
  // Rejections produce a TdcallRejectedEvent and never stop the vCPU.
  TdcallResult tdcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in) const;

 private:
  const TdImage& image_;
  const GuestMemory& mem_;
};

}  // namespace tdsim::sim
