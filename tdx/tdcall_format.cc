#include "tdcall_format.h"

#include <fmt/format.h>

#include "tdsim/abi/tdx.h"
#include "tdx_module.h"

namespace tdsim::tdx {

const char* tdcall_leaf_name(uint64_t leaf) {
  switch (leaf) {
    case abi::kTdgVpVmcall: return "TDG.VP.VMCALL";
    case abi::kTdgVpInfo: return "TDG.VP.INFO";
    case abi::kTdgMrRtmrExtend: return "TDG.MR.RTMR.EXTEND";
    case abi::kTdgVpVeinfoGet: return "TDG.VP.VEINFO.GET";
    case abi::kTdgMrReport: return "TDG.MR.REPORT";
    case abi::kTdgMemPageAccept: return "TDG.MEM.PAGE.ACCEPT";
    case abi::kTdgVmRd: return "TDG.VM.RD";
    case abi::kTdgVmWr: return "TDG.VM.WR";
  }
  return "unknown leaf";
}

const char* vmcall_subfn_name(uint64_t subfn) { return TdxModule::subfn_name(subfn); }

std::string format_tdcall(uint32_t vcpu, uint64_t rip, const ucall::TdcallRegs& in,
                          const ucall::TdcallRegs& out, const std::optional<Event>& event) {
  std::string s = fmt::format("vcpu {} tdcall {:#x}: {}", vcpu, rip, tdcall_leaf_name(in.rax));
  if (in.rax == abi::kTdgVpVmcall) {
    if (in.r10 != abi::kVmcallStandard) {
      s += fmt::format(" KVM hypercall R10={:#x} RCX={:#x} (expose mask) -> R10={:#x}", in.r10, in.rcx, out.r10);
    } else {
      s += fmt::format("<{}> RCX={:#x} (expose mask) R11={:#x} (sub-function)", vmcall_subfn_name(in.r11),
                       in.rcx, in.r11);
      if (in.r11 == abi::kVmcallRequestMmio)
        s += fmt::format(" R12={} (size) R13={} ({}) R14={:#x} (GPA) R15={:#x} (value)", in.r12, in.r13,
                         in.r13 == abi::kMmioWrite ? "write" : "read", in.r14, in.r15);
      s += fmt::format(" -> RAX={:#x} R10={:#x} R11={:#x}", out.rax, out.r10, out.r11);
    }
  } else {
    s += fmt::format(" RCX={:#x} RDX={:#x} R8={:#x} -> RAX={:#x}", in.rcx, in.rdx, in.r8, out.rax);
  }
  if (event) s += " => " + describe(*event);
  return s;
}

}  // namespace tdsim::tdx
