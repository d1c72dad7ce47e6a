// A plain KVM vCPU's registers as the diagnostics view (diag::CpuState), read with
// KVM_GET_REGS and KVM_GET_SREGS, and the fault report built from them. Only for the
// plain "kvm" backend: a TD's registers cannot be read (the TDX module protects them).
#pragma once
#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/cpu_state.h"

namespace tdsim::kvm {

// Throws BackendError naming the ioctl when it fails.
diag::CpuState read_cpu_state(int vcpu_fd);

// Fills ev.explanation with diag::explain_fault() over the state read now.
void explain_into(FaultEvent& ev, int vcpu_fd, const TdImage& image, const GuestMemory& mem);

}  // namespace tdsim::kvm
