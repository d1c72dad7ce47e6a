// Puts a UC_MODE_64 Unicorn engine into the architectural initial state of a TD vCPU
// (TDH.VP.INIT + TD VMCS init; docs/tdx-abi.md, "TD initial vCPU state"): flat 32-bit
// protected mode, paging off, RIP 0xfffffff0, EFER 0x901. Unicorn-only; knows TdImage,
// not the rest of the simulator.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>

#include "core/td_image.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::sim {

// RDX at reset is CPUID(1).EAX of the platform: the TD CPUID model's native CPU
// (tdx/td_cpuid.h, Sapphire Rapids), which also answers the guest's own CPUID(1); a unit
// test pins the two together.
uint64_t td_cpuid1_eax();

// Loads the TD reset state of vCPU `index` into `uc` (a fresh or used UC_MODE_64 engine).
//
// Why not UC_MODE_32: Unicorn's 32-bit mode masks CPUID.LM, so EFER.LME can never be set
// and the stub cannot reach long mode. Why not MODE_64 as-is: it starts in 64-bit mode.
// So a throwaway UC_MODE_32 engine loads flat 32-bit segment caches from a scratch GDT,
// and its saved CPU context (which carries hflags, segments, CRs, EFER but not the CPUID
// feature words) is restored into `uc` (docs/engine-quirks.md, "32-bit reset state in a
// 64-bit engine"). That engine is the process's one scratch engine (scratch_engine.h).
//
// Engine differences, documented rather than hidden:
//  - CR0 reads back 0x31: Unicorn forces CR0.ET (bit 4).
//  - EFER reads 0x901 as on a TD (Unicorn 2.1's CPU model has SYSCALL and NX; 2.0.1's
//    had neither and kept only LME: docs/engine-quirks.md).
//  - Segment selectors read 0 like a TD's, but the descriptor caches came from the
//    scratch GDT; LDTR/TR are not emulated and DR7 is Unicorn's reset value.
void load_td_reset_state(uc_engine* uc, const TdImage& image, uint32_t index);

}  // namespace tdsim::sim
