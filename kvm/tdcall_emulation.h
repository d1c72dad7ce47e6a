// TDCALL on a plain KVM VM: this host's KVM reports it as an emulation failure carrying
// the bytes 66 0F 01 CC (docs/engine-quirks.md). The registers go to the TD platform
// (tdx::TdxModule: the TDX module's leaves, KVM's TDG.VP.VMCALL handling and the VMM's
// host hooks), exactly the code the Unicorn backend feeds, so every leaf and
// sub-function behaves the same on both. Plain backend only: a TD has no register access.
#pragma once
#include <linux/kvm.h>

#include <functional>
#include <mutex>
#include <string>

#include "kvm_vm.h"
#include "tdx/tdx_module.h"
#include "kvm_stepper.h"

namespace tdsim::kvm {

// Is this exit an emulation failure on a TDCALL instruction?
bool is_tdcall_emulation_failure(const kvm_run& run);

// KVM_GET_REGS, hand the registers to `platform`, write its result back with RIP after
// the TDCALL (KVM_SET_REGS) unless the vCPU stops, emit its event. Returns false when
// the vCPU stops (terminal event, HLT, ReportFatalError). vCPUs run on their own threads
// and the platform holds TD-wide state (RTMRs, MSRs): `lock` serialises the calls.
// `observer` (may be empty) gets the TDCALL as one line (tdx/tdcall_format.h).
bool emulate_tdcall(KvmVcpu& vcpu, uint32_t index, ::tdsim::tdx::TdxModule& platform, std::mutex& lock,
                    const Emit& emit, const std::function<void(const std::string&)>& observer);

}  // namespace tdsim::kvm
