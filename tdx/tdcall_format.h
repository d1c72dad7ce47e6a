// One line per TDCALL, the same on every mechanism that traps TDCALLs (traces, the gdb
// stub's `monitor tdcalls`): leaf name, the registers in their TDCALL roles, the result
// and the event. Engine-free.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/event.h"
#include "ucall/host/tdvmcall.h"

namespace tdsim::tdx {

const char* tdcall_leaf_name(uint64_t leaf);    // "TDG.VP.VMCALL", ...
const char* vmcall_subfn_name(uint64_t subfn);  // "#VE.RequestMMIO", ...

// "vcpu 0 tdcall 0x401234: TDG.VP.VMCALL<#VE.RequestMMIO> RCX=0xfc00 (expose R10-R15) ..."
std::string format_tdcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in, const ucall::TdcallRegs& out,
                          const std::optional<Event>& event);

}  // namespace tdsim::tdx
