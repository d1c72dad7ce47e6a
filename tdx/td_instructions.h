// Instructions a TD's CPU hands to the TDX module (a VM exit) that neither the VMM nor an
// engine may run: the module's VM-exit dispatcher (tdx_td_dispatcher.c) turns some into
// a #VE the guest asks the VMM about (INVD, WBINVD, VMCALL), and makes others a #UD
// (MONITOR, MWAIT, the VMX instructions, GETSEC, ENCLS/ENCLV, SEAMCALL) — as if the TD's
// CPU lacked them. Port I/O, HLT, CPUID and RDMSR/WRMSR have their own rules (tdx_module.h,
// td_cpuid.h, td_msr.h). Engine-free; restated in docs/tdx-module-standin.md, "#VE".
#pragma once
#include <cstdint>
#include <optional>
#include <span>

namespace tdsim::tdx {

struct TdInstruction {
  const char* name;       // "WBINVD"
  uint32_t exit_reason;   // VMX basic exit reason of its VM exit
  uint32_t length;        // bytes, prefixes included
  bool ud;                // the module injects #UD; else a #VE with exit_reason
};

// The instruction at the start of `code` (64-bit mode) if it is one of the module's
// dispatcher rows above, else nullopt.
std::optional<TdInstruction> td_instruction_at(std::span<const uint8_t> code);

}  // namespace tdsim::tdx
