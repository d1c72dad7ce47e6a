// TDCALL on a plain KVM VM: this host's KVM reports it as an emulation failure carrying
// the bytes 66 0F 01 CC (engine-notes §5). We emulate just TDG.VP.VMCALL<#VE.RequestMMIO>
// with the same checks as the TDX module + KVM (ucall::check_vmcall_mmio) so guests that
// TDCALL anyway behave as in a TD. Plain backend only: a TD has no register access.
#pragma once
#include <linux/kvm.h>

#include "core/backend.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "kvm_vm.h"
#include "vcpu_runner.h"

namespace tdsim::kvm {

// Is this exit an emulation failure on a TDCALL instruction?
bool is_tdcall_emulation_failure(const kvm_run& run);

// KVM_GET_REGS, decide, write RAX/R10/R11, RIP += 4, KVM_SET_REGS; emits the ucall /
// MMIO / TdcallRejectedEvent. Returns false when the emitted event ended the vCPU.
// Leaves other than TDG.VP.VMCALL get RAX = TDX_OPERAND_INVALID; VMCALL sub-functions
// other than #VE.RequestMMIO get R10 = SUBFUNC_UNSUPPORTED (both reported as rejected).
// MMIO reads are answered by `read` (0 where it has no answer).
bool emulate_tdcall(KvmVcpu& vcpu, uint32_t index, const TdImage& image, const GuestMemory& mem,
                    const MmioReadHandler& read, const Emit& emit);

}  // namespace tdsim::kvm
