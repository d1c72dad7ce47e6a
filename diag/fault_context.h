// Everything the fault rules look at, computed once from a FaultEvent, the diagnostics
// CpuState and the image/memory: the instruction at RIP, the boot parameters as the
// guest sees them, and the control-register values in force once the faulting
// instruction would have completed. Internal to diag/.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/event.h"
#include "core/guest_memory.h"
#include "core/td_image.h"
#include "diag/cpu_state.h"
#include "diag/disasm.h"
#include "diag/guest_view.h"
#include "diag/page_walk.h"
#include "tdsim/abi/td_boot.h"

namespace tdsim::diag {

struct FaultContext {
  const FaultEvent& ev;
  const CpuState& cpu;
  const TdImage& image;
  const GuestMemory& mem;

  ExecMode mode = ExecMode::kProtected;
  LinearView view;                       // translation in force at the fault
  std::optional<Insn> insn;              // the instruction at RIP, if readable
  std::optional<abi::TdBootParams> params;
  std::optional<abi::TdPerVcpuParams> vcpu_params;

  // A faulting MOV to CRn: n and the value it tried to load (from the source GPR when
  // the backend supplied GPRs, else from the boot parameter of that name).
  int cr_target = -1;
  std::optional<uint64_t> cr_load;
  std::string cr_load_source;            // "edi" or "boot_params.cr0"
  uint64_t eff_cr0 = 0, eff_cr3 = 0, eff_cr4 = 0;

  bool is_pf() const { return ev.vector == 14; }
  bool is_gp() const { return ev.vector == 13; }
  bool eff_paging() const { return eff_cr0 & (1ull << 31); }
  // Walk of `gva` with the effective CR0/CR3 (what the guest was setting up).
  WalkParams walk(uint64_t gva, Access access) const {
    return walk_params(image, eff_cr3, gva, access, eff_cr0, eff_cr4);
  }
  std::string where(uint64_t addr) const;  // "<sym+0x12>, region 'stub' (boot-stub)"
  std::string vcpu_field(const char* member) const;  // "boot_params.per_vcpu[2].esp_gva"
};

FaultContext make_fault_context(const FaultEvent& ev, const CpuState& cpu, const TdImage& image,
                                const GuestMemory& mem);

}  // namespace tdsim::diag
